"""Encryption at rest: no plaintext under the data dir; a wrong key is refused unharmed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pytest

from jetrack.accounts.users import create_user
from jetrack.config import ConfigError
from jetrack.store.stores import open_stores
from tests.conftest import make_settings

MARKER = "MARKER-7d1c2f-not-in-any-file"


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in _files(root)
    }


def _write_marker(data_dir: Path) -> None:
    stores = open_stores(make_settings(data_dir))
    try:
        with stores.control.session() as session:
            create_user(session, "marker@example.com", name=MARKER)
        stores.events.command(
            "INSERT INTO events (site_id, timestamp, name, pathname, props) VALUES "
            "(1, now(), 'pageview', {m:String}, map('k', {m:String}))",
            {"m": "/" + MARKER},
        )
        copy = stores.events.query("SELECT * FROM events LIMIT 1")
        row = dict(zip(copy.columns, copy.rows[0], strict=True))
        columns = {c: pa.array([v]) for c, v in row.items() if c != "props"}
        columns["props"] = pa.array([list(row["props"])], pa.map_(pa.string(), pa.string()))
        schema = pa.schema([pa.field(c, a.type, nullable=c != "props") for c, a in columns.items()])
        table = pa.table(columns, schema=schema)
        stores.events.insert_arrow("events", table)
        stores.events.command("OPTIMIZE TABLE events FINAL")
        found = stores.events.query(
            "SELECT count() FROM events WHERE pathname = {m:String}", {"m": "/" + MARKER}
        )
        assert found.rows == [(2,)]
    finally:
        stores.close()


def test_marker_written_through_the_stores_is_in_no_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    _write_marker(data_dir)
    needle = MARKER.encode()
    leaking = [p for p in _files(data_dir) if needle in p.read_bytes()]
    assert leaking == []
    assert len(_files(data_dir)) > 10  # the scan really covered the stores' files


def test_without_encryption_the_marker_is_visible(tmp_path: Path) -> None:
    """The scan above can fail: with encryption off the same write is found in plaintext."""
    data_dir = tmp_path / "plain"
    stores = open_stores(make_settings(data_dir, encryption=False))
    try:
        with stores.control.session() as session:
            create_user(session, "marker@example.com", name=MARKER)
    finally:
        stores.close()
    assert any(MARKER.encode() in p.read_bytes() for p in _files(data_dir))


def test_wrong_key_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    _write_marker(data_dir)
    before = _digest(data_dir)
    with pytest.raises(ConfigError, match="JETRACK_ENCRYPTION_KEY: this key is not the one"):
        open_stores(make_settings(data_dir, encryption_key="11" * 32))
    before.pop("jetrack.lock", None)
    after = _digest(data_dir)
    after.pop("jetrack.lock", None)
    assert after == before


def test_generated_key_file_is_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    stores = open_stores(make_settings(data_dir, encryption_key=None))
    stores.close()
    key_file = data_dir / "encryption.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert len(bytes.fromhex(key_file.read_text().strip())) == 32
    # Restarting finds the same key and opens the data.
    open_stores(make_settings(data_dir, encryption_key=None)).close()
