"""`jetrack backup` / `jetrack restore`: a sealed copy of the embedded data dir that restores
into a fresh data dir with the same stats and accounts, and refuses a wrong key, a changed
file and a data dir in use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from jetrack.cli import main
from jetrack.config import ConfigError
from jetrack.demo import seed_demo
from jetrack.stats.engine import run_query
from jetrack.stats.query import SiteInfo
from jetrack.store.backup import BackupError, restore_backup, write_backup
from jetrack.store.models import Site, User
from jetrack.store.stores import Stores, open_stores
from tests.conftest import TEST_KEY, make_settings

pytestmark = pytest.mark.slow

DOMAIN = "shop.example"
OWNER = "owner@shop.example"


def _facts(stores: Stores) -> dict[str, Any]:
    """What a restore must bring back: the site's stats and the control store's rows."""
    with stores.control.session() as session:
        site = SiteInfo.from_site(session.scalars(select(Site).where(Site.domain == DOMAIN)).one())
        sites = sorted((s.domain, s.timezone, s.owner_id) for s in session.scalars(select(Site)))
        users = sorted((u.email, u.password_hash) for u in session.scalars(select(User)))
    totals = run_query(
        stores.events,
        site,
        {"site_id": DOMAIN, "metrics": ["visitors", "pageviews"], "date_range": "all"},
    )
    sources = run_query(
        stores.events,
        site,
        {
            "site_id": DOMAIN,
            "metrics": ["visitors", "visits"],
            "date_range": "all",
            "dimensions": ["visit:source"],
        },
    )
    return {
        "sites": sites,
        "users": users,
        "totals": totals["results"],
        "sources": sorted(map(str, sources["results"])),
    }


def _cli(data_dir: Path, *args: str, key: str = TEST_KEY) -> tuple[int, str]:
    env = {"JETRACK_DATA_DIR": str(data_dir), "JETRACK_ENCRYPTION_KEY": key}
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def test_backup_restores_into_a_fresh_data_dir_with_the_same_stats(tmp_path: Path) -> None:
    source = tmp_path / "data"
    backup = tmp_path / "jetrack.backup"
    stores = open_stores(make_settings(source))
    try:
        seed_demo(stores, DOMAIN, OWNER, days=8, visitors_per_day=40)
        before = _facts(stores)
        # The server holds the data dir: no backup while it can write.
        with pytest.raises(ConfigError, match="in use by another running Jetrack"):
            write_backup(make_settings(source), backup)
    finally:
        stores.close()
    assert before["totals"][0]["metrics"][0] > 100 and len(before["sources"]) > 3

    code, output = _cli(source, "backup", str(backup))
    assert code == 0, output
    assert "AES-256-GCM" in output and backup.stat().st_mode & 0o777 == 0o600
    sealed = backup.read_bytes()
    # Sealed whole: not even the names of the files or the tar headers show.
    for needle in (b"control.db", b"key.check", b"ustar", DOMAIN.encode(), OWNER.encode()):
        assert needle not in sealed
    assert _cli(source, "backup", str(backup))[0] != 0  # never overwrites
    code, output = _cli(source, "backup", str(tmp_path / "no" / "such" / "dir.backup"))
    assert code != 0 and "cannot write" in output and "Traceback" not in output

    # A wrong key is told so before anything is written.
    wrong = tmp_path / "wrong"
    code, output = _cli(wrong, "restore", str(backup), key="11" * 32)
    assert code != 0 and "not the key the backup was made with" in output
    assert {p.name for p in wrong.iterdir()} <= {"jetrack.lock"}

    # A changed byte anywhere in the sealed part fails the restore and leaves nothing.
    changed = tmp_path / "changed.backup"
    damaged = bytearray(sealed)
    damaged[len(damaged) // 2] ^= 1
    changed.write_bytes(bytes(damaged))
    target = tmp_path / "damaged"
    with pytest.raises(BackupError, match="damaged or was changed"):
        restore_backup(make_settings(target), changed)
    assert {p.name for p in target.iterdir()} <= {"jetrack.lock"}
    cut = tmp_path / "cut.backup"
    cut.write_bytes(sealed[: len(sealed) - 100])
    with pytest.raises(BackupError, match="cut short"):
        restore_backup(make_settings(target), cut)

    restored = tmp_path / "restored"
    code, output = _cli(restored, "restore", str(backup))
    assert code == 0, output
    files = int(output.split()[1])
    assert files == sum(1 for p in restored.rglob("*") if p.is_file() and p.name != "jetrack.lock")
    assert not (restored / "encryption.key").exists()  # the key is never in a backup
    code, output = _cli(restored, "restore", str(backup))
    assert code != 0 and "is not empty" in output
    stores = open_stores(make_settings(restored))
    try:
        assert _facts(stores) == before
    finally:
        stores.close()
