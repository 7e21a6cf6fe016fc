"""`jetrack audit`: every invariant passes on a fresh instance, and each one, broken once,
is caught by name with exit code 1."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from jetrack.cli import main
from jetrack.jobs.runner import run_now
from jetrack.privacy.audit import public_addresses, suspect_column
from jetrack.store.models import ErasureRequest, Salt, Site, utcnow
from jetrack.store.stores import Stores, open_stores
from tests.conftest import TEST_KEY, make_settings
from tests.privacy.helpers import make_account

Breaker = Callable[[Stores], None]


def _audit(data_dir: Path, *args: str, **env: str) -> tuple[int, str]:
    variables = {
        "JETRACK_DATA_DIR": str(data_dir),
        "JETRACK_ENCRYPTION_KEY": TEST_KEY,
        "JETRACK_LOG_LEVEL": "error",
    }
    variables.update({f"JETRACK_{k.upper()}": v for k, v in env.items()})
    result = CliRunner().invoke(main, ["audit", *args], env=variables)
    return result.exit_code, result.output


def _seeded(tmp_path: Path, breaker: Breaker | None = None, **overrides: object) -> Path:
    data_dir = tmp_path / "data"
    stores = open_stores(make_settings(data_dir, **overrides))
    try:
        make_account(stores, "ada@example.com", "ada.example")
        if breaker is not None:
            breaker(stores)
    finally:
        stores.close()
    return data_dir


def test_a_fresh_instance_passes(tmp_path: Path) -> None:
    code, output = _audit(_seeded(tmp_path))
    assert code == 0, output
    assert "all checks pass" in output
    for name in (
        "event_columns",
        "control_columns",
        "salt_age",
        "encryption_at_rest",
        "transport",
        "retention_run",
        "cookie_mode",
        "no_ip_in_data_files",
    ):
        assert f"pass  {name}" in output, output


def _scratch_event_table(stores: Stores) -> None:
    stores.events.command(
        "CREATE TABLE scratch (client_ip String) ENGINE = MergeTree ORDER BY tuple()"
    )


def _scratch_control_table(stores: Stores) -> None:
    with stores.control.engine.begin() as conn:
        conn.execute(text("CREATE TABLE scratch (id INTEGER PRIMARY KEY, remote_addr TEXT)"))


def _ip_in_data_dir(stores: Stores) -> None:
    (stores.settings.data_dir / "debug.log").write_text(
        "start version 24.3.1.5 on 127.0.0.1 and 10.0.0.7\nvisit from 81.2.69.160 ok\n"
    )


def _old_salt(stores: Stores) -> None:
    with stores.control.session() as session:
        session.add(Salt(value=b"x" * 32, created_at=utcnow() - timedelta(hours=49)))


def _overdue_erasure(stores: Stores) -> None:
    with stores.control.session() as session:
        session.add(
            ErasureRequest(
                user_id=12345,
                requested_at=utcnow() - timedelta(days=31),
                purge_after=utcnow() - timedelta(days=24),
            )
        )


def _retention_without_run(stores: Stores) -> None:
    with stores.control.session() as session:
        for site in session.query(Site):
            site.retention_days = 30


@pytest.mark.parametrize(
    ("failing", "breaker", "env"),
    [
        ("event_columns", _scratch_event_table, {}),
        ("control_columns", _scratch_control_table, {}),
        ("no_ip_in_data_files", _ip_in_data_dir, {}),
        ("salt_age", _old_salt, {}),
        ("erasure_deadline", _overdue_erasure, {}),
        ("erasure_deadline", None, {"erasure_grace_days": "30"}),
        ("retention_run", _retention_without_run, {}),
        ("transport", None, {"host": "0.0.0.0"}),
    ],
)
@pytest.mark.slow
def test_each_broken_invariant_is_caught(
    tmp_path: Path, failing: str, breaker: Breaker | None, env: dict[str, str]
) -> None:
    code, output = _audit(_seeded(tmp_path, breaker), **env)
    assert code == 1, output
    assert f"FAIL  {failing}" in output, output
    assert f"FAILED ({failing})" in output, output  # and nothing else failed
    assert "81.2.69.160" not in output  # the report names files, never the addresses


def test_ip_in_logs_is_caught(tmp_path: Path) -> None:
    data_dir = _seeded(tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "clean.log").write_text("GET /api/health 200 from 127.0.0.1 and ::1\n")
    assert _audit(data_dir, "--logs", str(logs))[0] == 0
    (logs / "proxy.log").write_text("client=2a00:1450:4001:82a::200e GET /\n")
    code, output = _audit(data_dir, "--logs", str(logs))
    assert code == 1 and "FAIL  no_ip_in_logs" in output and "proxy.log" in output


def test_encryption_off_is_caught(tmp_path: Path) -> None:
    data_dir = tmp_path / "plain"
    stores = open_stores(make_settings(data_dir, encryption=False, encryption_key=None))
    stores.close()
    result = CliRunner().invoke(
        main,
        ["audit"],
        env={"JETRACK_DATA_DIR": str(data_dir), "JETRACK_ENCRYPTION": "false"},
    )
    assert result.exit_code == 1 and "FAIL  encryption_at_rest" in result.output, result.output


def test_retention_passes_after_a_run(tmp_path: Path) -> None:
    data_dir = _seeded(tmp_path, _retention_without_run)
    stores = open_stores(make_settings(data_dir))
    try:
        run_now(stores, "retention")
    finally:
        stores.close()
    code, output = _audit(data_dir)
    assert code == 0 and "pass  retention_run" in output, output


def test_with_the_data_dir_held_the_rest_is_still_checked(tmp_path: Path) -> None:
    data_dir = _seeded(tmp_path, _old_salt)
    stores = open_stores(make_settings(data_dir))  # as a running server would
    try:
        code, output = _audit(data_dir)
    finally:
        stores.close()
    assert "skip  event_columns" in output and "operator console" in output
    assert code == 1 and "FAIL  salt_age" in output


@pytest.mark.parametrize(
    ("text_", "found"),
    [
        ("from 81.2.69.160", ["81.2.69.160"]),
        ("127.0.0.1 0.0.0.0 10.1.2.3 192.168.0.1 172.16.5.4", []),
        ("version 24.3.1.5, v1.2.3.4", []),
        ("1.2.3.4.5 and 300.1.1.1", []),
        ("at 12:30:45 and a::b::c", []),
        ("[2001:4860:4860::8888]:443", ["2001:4860:4860::8888"]),
    ],
)
def test_address_patterns(text_: str, found: list[str]) -> None:
    assert list(public_addresses(text_)) == found


def test_column_names() -> None:
    assert [
        n
        for n in ("client_ip", "remote_addr", "user_agent", "ua", "ipv6", "ip")
        if not suspect_column(n)
    ] == []
    assert [
        n
        for n in ("visitor_id", "pathname", "description", "zip", "script", "equipment")
        if suspect_column(n)
    ] == []
