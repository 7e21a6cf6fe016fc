"""The jetrack command as an operator runs it: real processes, real data dir."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from jetrack.cli import main
from tests.conftest import TEST_KEY, Inbox, LiveServer, copy_data_dir, start_server
from tests.privacy.helpers import make_account

# Every test runs the command line in a new Python process (about a second each).
pytestmark = pytest.mark.slow


def run(
    data_dir: Path, *args: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("JETRACK_")}
    environ.update({"JETRACK_DATA_DIR": str(data_dir), "JETRACK_ENCRYPTION_KEY": TEST_KEY, **env})
    return subprocess.run(
        [sys.executable, "-m", "jetrack.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
    )


def invoke(
    data_dir: Path, *args: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    """`run` in this process (click's CliRunner, the same `main`): for the commands whose
    tests check what they do, not how the process starts and exits (test_operator_flow
    runs the real processes)."""
    variables: dict[str, str | None] = {k: None for k in os.environ if k.startswith("JETRACK_")}
    variables.update({"JETRACK_DATA_DIR": str(data_dir), "JETRACK_ENCRYPTION_KEY": TEST_KEY, **env})
    result = CliRunner().invoke(main, list(args), input=stdin, env=variables)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(["jetrack", *args], result.exit_code, result.stdout,
                                       result.stderr)  # fmt: skip


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[list[str]]:
    found = [list(prefix)]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found.extend(_command_paths(command, (*prefix, name)))
        else:
            found.append([*prefix, name])
    return found


@pytest.mark.parametrize("command", _command_paths(main), ids=lambda c: " ".join(c) or "jetrack")
def test_every_command_has_help(tmp_path: Path, command: list[str]) -> None:
    result = invoke(tmp_path, *command, "--help")  # click's help: no process needed
    assert result.returncode == 0
    assert "Usage: " in result.stdout


# What a command runs in a process of its own: the modules it loaded, of those below.
MODULES_PROBE = """
import sys
from jetrack.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    assert not exit.code, exit.code
heavy = ("pydantic_settings", "sqlalchemy", "pyarrow", "numpy", "chdb", "ua_parser")
print(" ".join(name for name in heavy if name in sys.modules) or "-", file=sys.stderr)
"""


@pytest.mark.parametrize(
    ("args", "loaded"),
    [
        (["--help"], "-"),
        (["site", "--help"], "-"),
        (["site", "list"], "pydantic_settings sqlalchemy"),  # the control store only
        (["migrate"], "pydantic_settings sqlalchemy pyarrow numpy chdb"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_commands_load_only_what_they_use(
    tmp_path: Path, data_dir_template: Path, args: list[str], loaded: str
) -> None:
    """`jetrack --help` and the control-store commands start without the settings' and the
    event store's libraries (~0.5 s of CPU a process; docs/benchmarks.md, "Process start")."""
    data = tmp_path / "data"
    copy_data_dir(data_dir_template, data)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("JETRACK_")}
    environ.update({"JETRACK_DATA_DIR": str(data), "JETRACK_ENCRYPTION_KEY": TEST_KEY})
    result = subprocess.run(
        [sys.executable, "-c", MODULES_PROBE, *args],
        capture_output=True, text=True, env=environ, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == loaded


def test_serve_refuses_several_workers_on_the_embedded_store(tmp_path: Path) -> None:
    # chDB allows one process per data dir: --workers 2 needs the shared mode, and says so
    # before anything starts.
    result = invoke(tmp_path / "data", "serve", "--workers", "2")
    assert result.returncode == 2
    assert "JETRACK_WORKERS: several processes need the shared mode" in result.stderr
    assert "JETRACK_REDIS_URL" in result.stderr and not (tmp_path / "data").exists()


def test_operator_flow(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(data, "migrate").returncode == 0
    created = run(
        data,
        "user",
        "create",
        "ann@example.com",
        "--name",
        "Ann",
        "--password-stdin",
        stdin="a long password\n",
    )
    assert created.returncode == 0, created.stderr
    assert "instance admin" in created.stdout
    added = run(
        data,
        "site",
        "add",
        "example.com",
        "--owner",
        "ann@example.com",
        "--timezone",
        "Europe/Berlin",
    )
    assert added.returncode == 0, added.stderr
    listed = run(data, "site", "list")
    assert "example.com\tEurope/Berlin\tann@example.com" in listed.stdout
    key = run(data, "api-key", "create", "--user", "ann@example.com", "--name", "ci")
    assert key.returncode == 0
    assert key.stdout.strip().startswith("jt_") and len(key.stdout.strip().splitlines()) == 1
    # The key is stored hashed: it is in no file of the data dir (encrypted or not).
    assert not any(
        key.stdout.strip().encode() in p.read_bytes() for p in data.rglob("*") if p.is_file()
    )


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["migrate"], {"JETRACK_PORT": "x"}, "JETRACK_PORT: Input should be a valid integer"),
        (
            ["site", "add", "example.com", "--owner", "nobody@example.com"],
            {},
            "--owner: no account",
        ),
        (["site", "add", "bad domain", "--owner", "nobody@example.com"], {}, "--owner: no account"),
        (["user", "create", "not-an-email"], {}, "email: must be an email address"),
        (
            ["migrate"],
            {"JETRACK_ENCRYPTION_KEY": "22" * 32},
            "JETRACK_ENCRYPTION_KEY: this key is not the one",
        ),
    ],
)
def test_errors_are_one_line_with_nonzero_exit(
    tmp_path: Path, data_dir_template: Path, args: list[str], env: dict[str, str], expected: str
) -> None:
    data = tmp_path / "data"
    copy_data_dir(data_dir_template, data)  # migrated (test_operator_flow runs `migrate`)
    result = run(data, *args, **env)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("jetrack: error:")]
    assert len(errors) == 1 and expected in errors[0], result.stderr
    assert "Traceback" not in result.stderr


def test_unwritable_data_dir(tmp_path: Path) -> None:
    locked = tmp_path / "ro"
    locked.mkdir()
    target = locked / "data"
    locked.chmod(0o500)
    try:
        result = (
            run(target, "migrate")
            if os.geteuid() != 0
            else run(Path("/proc/jetrack-data"), "migrate")
        )
    finally:
        locked.chmod(0o700)
    assert result.returncode == 2
    assert "JETRACK_DATA_DIR: cannot create" in result.stderr


@pytest.mark.server
def test_data_dir_held_by_a_running_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server: LiveServer = start_server(data)
    try:
        before = sorted(p.name for p in data.iterdir())
        result = run(data, "serve", JETRACK_PORT="1")
        assert result.returncode == 2
        assert "is in use by another running Jetrack" in result.stderr
        assert sorted(p.name for p in data.iterdir()) == before
        # Control-store commands still work while the server runs.
        assert run(data, "user", "create", "ops@example.com").returncode == 0
    finally:
        server.stop()


def _demo_password(stdout: str) -> str:
    match = re.search(r"Log in as demo@jetrack\.local with password (\S+)", stdout)
    assert match, stdout
    return match.group(1)


def test_demo_login_prints_a_new_password(tmp_path: Path) -> None:
    """A lost demo password (only its hash is stored) is replaced and printed again."""
    from starlette.testclient import TestClient

    from jetrack.app import create_app
    from tests.conftest import make_settings

    data = tmp_path / "data"
    first = _demo_password(invoke(data, "demo", "--days", "1", "--visitors-per-day", "5").stdout)
    again = invoke(data, "demo", "--login")
    assert again.returncode == 0, again.stderr
    second = _demo_password(again.stdout)
    assert second != first
    with TestClient(create_app(make_settings(data)), follow_redirects=False) as client:
        for secret, status in ((first, 400), (second, 303)):
            client.cookies.clear()
            login = {"email": "demo@jetrack.local", "password": secret}
            assert client.post("/login", data=login).status_code == status
    missing = invoke(tmp_path / "empty", "demo", "--login")
    assert missing.returncode != 0 and "no account demo@jetrack.local" in missing.stderr


def test_demo_and_cli_accounts_can_log_in(tmp_path: Path) -> None:
    """What a newcomer does after `make run`: log in with the printed demo password and
    see the dashboard; an operator-made account logs in without a confirmation mail."""
    from starlette.testclient import TestClient

    from jetrack.app import create_app
    from tests.conftest import make_settings

    data = tmp_path / "data"
    demo = invoke(data, "demo", "--days", "3", "--visitors-per-day", "20", "--if-empty")
    assert demo.returncode == 0, demo.stderr
    password = _demo_password(demo.stdout)
    # The login is the last thing printed, framed, with the way to get it again.
    assert demo.stdout.strip().splitlines()[-1].startswith("=====")
    assert "jetrack demo --login" in demo.stdout
    assert invoke(data, "demo", "--if-empty").stdout == ""  # a second run changes nothing
    made = invoke(
        data, "user", "create", "ops@example.com", "--password-stdin", stdin="operator password\n"
    )
    assert made.returncode == 0 and "instance admin" in made.stdout  # the demo account is no admin
    with TestClient(create_app(make_settings(data))) as client:
        for email, secret in (
            ("demo@jetrack.local", password),
            ("ops@example.com", "operator password"),
        ):
            client.cookies.clear()
            answer = client.post(
                "/login", data={"email": email, "password": secret}, follow_redirects=False
            )
            assert answer.status_code == 303, answer.text
            assert "jt_session" in answer.cookies
        client.cookies.clear()
        client.post("/login", data={"email": "demo@jetrack.local", "password": password})
        page = client.get("/sites/demo.jetrack.local")
        assert page.status_code == 200 and "jt-bootstrap" in page.text


def test_rates_update_installs_an_ecb_file_and_show_prints_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shown = invoke(data, "rates", "show")
    assert shown.returncode == 0, shown.stderr
    assert (
        shown.stdout.startswith("2025-04-25\tEuropean Central Bank") and "packaged" in shown.stdout
    )
    ecb = tmp_path / "eurofxref.csv"
    ecb.write_text("Date, USD, JPY, \n02 January 2026, 1.0350, 163.10, \n")
    updated = invoke(data, "rates", "update", str(ecb))
    assert updated.returncode == 0, updated.stderr
    assert updated.stdout.strip() == (
        f"installed 3 rates of 2026-01-02 (1 EUR) in {data / 'exchange-rates.json'}"
    )
    lines = invoke(data, "rates", "show").stdout.splitlines()
    assert lines[0].startswith("2026-01-02\teurofxref.csv\t") and lines[1] == (
        "1 EUR = 1 EUR, 163.1 JPY, 1.035 USD"
    )
    bad = invoke(data, "rates", "update", str(tmp_path / "nothing.csv"))
    assert bad.returncode != 0 and bad.stderr.startswith("jetrack: error: FILE: cannot read")


def test_reports_send_and_alerts_check_mail_and_say_what(
    tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    from datetime import UTC, datetime, timedelta

    from jetrack.demo import seed_demo
    from jetrack.sites import report_recipients
    from jetrack.store.models import Site, User
    from jetrack.store.stores import open_stores
    from tests.conftest import make_settings
    from tests.jobs.test_alerts import hourly, insert_hours

    inbox, port = smtp
    data = tmp_path / "data"
    stores = open_stores(make_settings(data))
    try:
        seed_demo(stores, "shop.example", "owner@shop.example", days=40, visitors_per_day=20)
        _, (quiet,) = make_account(stores, "ann@quiet.example", "quiet.example")
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        insert_hours(
            stores.events, quiet, hourly(now - timedelta(days=27), now - 5 * timedelta(hours=1))
        )
        with stores.control.session() as session:
            site = session.get(Site, quiet)
            user = session.get(User, site.owner_id) if site else None
            assert site is not None and user is not None
            report_recipients.set_member_kinds(session, site, user, {"alerts"})
    finally:
        stores.close()
    mail = {"JETRACK_SMTP_HOST": "127.0.0.1", "JETRACK_SMTP_PORT": str(port)}

    sent = invoke(
        data,
        "reports",
        "send",
        "shop.example",
        "--period",
        "month",
        "--to",
        "cfo@x.example",
        **mail,
    )
    assert sent.returncode == 0, sent.stderr
    assert re.fullmatch(
        r"sent the monthly report of shop\.example \(\w+ \d{4}, \d+ visitors\) to cfo@x\.example\n",
        sent.stdout,
    )
    message = inbox.last_to("cfo@x.example")
    assert message["Subject"].startswith("Monthly report for shop.example")
    assert message["List-Unsubscribe"] is None  # not a recipient: nothing to unsubscribe from

    checked = invoke(data, "alerts", "check", **mail)
    assert checked.returncode == 0, checked.stderr
    # 4 h silent, or 5 when the clock passed an hour since the events were made.
    assert re.fullmatch(
        r"quiet\.example: tracking stopped: no events for [45] h \(normal at this time of the"
        r" week: up to 0 h\); mailed to 1 recipient\(s\)\nalerts: 1 sent\n",
        checked.stdout,
    ), checked.stdout
    assert (
        inbox.last_to("ann@quiet.example")["Subject"]
        == "Tracking seems to have stopped on quiet.example"
    )
    again = invoke(data, "alerts", "check", **mail)
    assert again.stdout == "alerts: 0 sent\n"

    for args, error in [
        (("reports", "send", "nope.example", "--to", "a@b.example"), "no site nope.example"),
        (("reports", "send", "shop.example", "--period", "day", "--to", "a@b.example"), "'day'"),
    ]:
        failed = invoke(data, *args, **mail)
        assert failed.returncode == 2 and error in failed.stderr, failed.stderr
    unsent = invoke(data, "alerts", "check")
    assert unsent.returncode == 2
    assert (
        unsent.stderr == "jetrack: error: JETRACK_SMTP_HOST is unset: alerts need an SMTP server\n"
    )


def test_import_access_log_prints_what_it_imported_and_refuses_bad_input(tmp_path: Path) -> None:
    from jetrack.store.stores import open_stores
    from tests.conftest import make_settings

    data = tmp_path / "data"
    stores = open_stores(make_settings(data))
    try:
        make_account(stores, "owner@example.com", "example.com")
    finally:
        stores.close()
    agent = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
    lines = [
        ("/", agent),
        ("/pricing", agent),
        ("/site.css", agent),
        ("/", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
    ]
    log = tmp_path / "access.log"
    log.write_text(
        "".join(
            f'192.0.2.7 - - [05/Mar/2024:10:0{i}:00 +0000] "GET {path} HTTP/1.1" 200 5 "-" "{ua}"\n'
            for i, (path, ua) in enumerate(lines)
        )
    )
    done = invoke(data, "import", "access-log", "--site", "example.com", str(log))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "import 1: 2 events from 2024-03-05 to 2024-03-05; skipped: asset 1, bot_ua 1"
    )
    unknown = invoke(data, "import", "access-log", "--site", "nope.example", str(log))
    assert unknown.returncode == 2 and "--site: no site nope.example" in unknown.stderr
    not_goatcounter = invoke(data, "import", "goatcounter", "--site", "example.com", str(log))
    assert not_goatcounter.returncode == 2
    assert "not a GoatCounter CSV export of version 2" in not_goatcounter.stderr
