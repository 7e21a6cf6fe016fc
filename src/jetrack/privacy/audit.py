"""The privacy audit: each check inspects configuration or stored data and says pass or fail.

`jetrack audit` prints the report and exits 1 when a check fails; the operator console
shows the same report from inside the running server.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import inspect, select

from jetrack.config import ConfigError, Settings
from jetrack.privacy.retention import retention_days
from jetrack.store.control import ControlStore
from jetrack.store.events import EventStore, EventStoreError
from jetrack.store.job_queue import last_finished
from jetrack.store.keys import KEY_FILE_NAME
from jetrack.store.models import ErasureRequest, Site, as_utc
from jetrack.store.salts import SALT_LIFETIME, salt_ages
from jetrack.store.stores import open_control_only, open_stores

ERASURE_DEADLINE = timedelta(days=30)
RETENTION_RUN_MAX_AGE = timedelta(hours=48)
# Column names that suggest a network address or a raw user agent, matched per word.
SUSPECT_WORDS = frozenset({"ip", "ipv4", "ipv6", "ips", "addr", "remote", "ua", "useragent"})
SUSPECT_PHRASES = ("user_agent", "ip_address", "remote_addr", "client_address")
SCAN_BYTES_PER_FILE = 64 * 1024 * 1024
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)(?![\w-])")
IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
VERSION_BEFORE = re.compile(r"(?:version|ver|v)[\s:=]*$", re.IGNORECASE)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    skipped: bool = False

    @property
    def status(self) -> str:
        return "skip" if self.skipped else ("pass" if self.ok else "FAIL")


def suspect_column(name: str) -> bool:
    lowered = name.lower()
    words = set(re.split(r"[^a-z0-9]+", lowered))
    return bool(words & SUSPECT_WORDS) or any(phrase in lowered for phrase in SUSPECT_PHRASES)


# --- Checks -----------------------------------------------------------------------------------


def check_event_columns(events: EventStore) -> Check:
    result = events.query(
        "SELECT table, name FROM system.columns WHERE database = currentDatabase()"
    )
    bad = sorted(f"{table}.{name}" for table, name in result.rows if suspect_column(str(name)))
    if bad:
        return Check(
            "event_columns", False, "columns that could hold an address: " + ", ".join(bad)
        )
    return Check("event_columns", True, f"{len(result.rows)} columns, none can hold an address")


def check_control_columns(control: ControlStore) -> Check:
    inspector = inspect(control.engine)
    bad, count = [], 0
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            count += 1
            if suspect_column(str(column["name"])):
                bad.append(f"{table}.{column['name']}")
    if bad:
        return Check(
            "control_columns",
            False,
            "columns that could hold an address: " + ", ".join(sorted(bad)),
        )
    return Check("control_columns", True, f"{count} columns, none can hold an address")


def public_addresses(text: str) -> Iterator[str]:
    """Addresses in `text` that could be a person's (not loopback, private or a version)."""
    for pattern in (IPV4, IPV6):
        for match in pattern.finditer(text):
            candidate = match.group(0)
            if pattern is IPV6 and candidate.count(":") < 2:
                continue
            if VERSION_BEFORE.search(text[max(0, match.start() - 10) : match.start()]):
                continue
            try:
                address = ipaddress.ip_address(candidate)
            except ValueError:
                continue
            if address.is_global:
                yield candidate


def _text_files(paths: Iterable[Path], skip: set[Path]) -> Iterator[Path]:
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if path.resolve() not in skip:
                yield path


def _read_text(path: Path) -> str | None:
    """The file as text, or None when it is binary (encrypted stores and journals are)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(SCAN_BYTES_PER_FILE)
    except OSError:
        return None
    if b"\x00" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def check_files(label: str, paths: list[Path], skip: set[Path]) -> Check:
    scanned, findings = 0, []
    for path in _text_files(paths, skip):
        text = _read_text(path)
        if text is None:
            continue
        scanned += 1
        found = sorted(set(public_addresses(text)))
        if found:
            # Name the file and how many, not the addresses: the report must not spread them.
            findings.append(f"{path} ({len(found)} address(es))")
    name = f"no_ip_in_{label}"
    if findings:
        return Check(name, False, "visitor-like IP addresses in: " + "; ".join(findings[:20]))
    return Check(name, True, f"{scanned} text file(s) scanned, no public IP address")


def check_salts(control: ControlStore, now: datetime | None = None) -> Check:
    ages = salt_ages(control, now)
    oldest = max(ages, default=timedelta(0))
    hours = oldest.total_seconds() / 3600
    if oldest > SALT_LIFETIME:
        return Check("salt_age", False, f"a salt is {hours:.1f} h old (limit 48 h)")
    return Check("salt_age", True, f"{len(ages)} salt(s), oldest {hours:.1f} h")


def check_encryption(settings: Settings) -> Check:
    if not settings.encryption:
        return Check("encryption_at_rest", False, "JETRACK_ENCRYPTION is off: stores are plaintext")
    where = "PostgreSQL's own" if settings.database_url else "SQLCipher"
    return Check("encryption_at_rest", True, f"on (event store AES-256; control store {where})")


def check_transport(settings: Settings) -> Check:
    if settings.tls:
        return Check("transport", True, f"TLS served directly ({settings.certfile})")
    if settings.trusted_proxies:
        proxies = ", ".join(settings.trusted_proxies)
        return Check(
            "transport", True, f"behind trusted proxies ({proxies}); they must terminate TLS"
        )
    try:
        loopback = ipaddress.ip_address(settings.host).is_loopback
    except ValueError:
        loopback = settings.host == "localhost"
    if loopback:
        return Check(
            "transport", True, "plain HTTP on loopback only; put a TLS proxy in front to publish"
        )
    return Check(
        "transport",
        False,
        f"plain HTTP on {settings.host} without TLS or a trusted proxy: "
        "set JETRACK_CERTFILE/JETRACK_KEYFILE or JETRACK_TRUSTED_PROXIES",
    )


def check_retention_run(
    control: ControlStore, settings: Settings, now: datetime | None = None
) -> Check:
    now = now or datetime.now(UTC)
    with control.session() as session:
        last = last_finished(session, "retention")
        limited = [s.domain for s in session.scalars(select(Site)) if retention_days(s, settings)]
    shown = last.strftime("%Y-%m-%d %H:%M UTC") if last else "never"
    if limited and (last is None or now - last > RETENTION_RUN_MAX_AGE):
        return Check(
            "retention_run",
            False,
            f"{len(limited)} site(s) have a retention period; last run: {shown}",
        )
    return Check(
        "retention_run", True, f"last run: {shown}; {len(limited)} site(s) with a retention period"
    )


def check_erasures(control: ControlStore, settings: Settings, now: datetime | None = None) -> Check:
    now = now or datetime.now(UTC)
    if timedelta(days=settings.erasure_grace_days) >= ERASURE_DEADLINE:
        return Check("erasure_deadline", False, "JETRACK_ERASURE_GRACE_DAYS must be under 30")
    with control.session() as session:
        late = [
            r.id
            for r in session.scalars(
                select(ErasureRequest).where(ErasureRequest.completed_at.is_(None))
            )
            if now - as_utc(r.requested_at) > ERASURE_DEADLINE
        ]
    if late:
        return Check(
            "erasure_deadline",
            False,
            f"{len(late)} erasure request(s) older than 30 days not purged",
        )
    return Check(
        "erasure_deadline", True, f"undo window {settings.erasure_grace_days} day(s); none overdue"
    )


def check_cookie_mode(control: ControlStore) -> Check:
    with control.session() as session:
        sites = session.scalars(select(Site).order_by(Site.domain)).all()
        with_cookie = [s.domain for s in sites if s.cookie_mode]
    listed = ", ".join(with_cookie) if with_cookie else "none"
    return Check("cookie_mode", True, f"{len(sites)} site(s); cookie mode on: {listed}")


# --- Running the report -------------------------------------------------------------------------


def audit_checks(
    settings: Settings,
    control: ControlStore,
    events: EventStore | None,
    log_paths: list[Path],
    now: datetime | None = None,
) -> list[Check]:
    skip = {(settings.data_dir / KEY_FILE_NAME).resolve()}
    checks: list[Check] = []
    if events is None:
        checks.append(
            Check(
                "event_columns",
                True,
                "event store held by the running server: see the operator console's audit, "
                "or stop the server and run `jetrack audit` again",
                skipped=True,
            )
        )
    else:
        try:
            checks.append(check_event_columns(events))
        except EventStoreError as exc:
            checks.append(Check("event_columns", False, f"cannot read the event store: {exc}"))
    checks.append(check_control_columns(control))
    checks.append(check_files("data_files", [settings.data_dir], skip))
    if log_paths:
        checks.append(check_files("logs", log_paths, skip))
    else:
        checks.append(Check("no_ip_in_logs", True, "no --logs given", skipped=True))
    checks.append(check_salts(control, now))
    checks.append(check_encryption(settings))
    checks.append(check_transport(settings))
    checks.append(check_retention_run(control, settings, now))
    checks.append(check_erasures(control, settings, now))
    checks.append(check_cookie_mode(control))
    return checks


def format_report(checks: list[Check]) -> list[str]:
    width = max(len(c.name) for c in checks)
    lines = [f"{c.status:4}  {c.name:<{width}}  {c.detail}" for c in checks]
    failed = [c.name for c in checks if not c.ok]
    lines.append(
        "privacy audit: " + (f"FAILED ({', '.join(failed)})" if failed else "all checks pass")
    )
    return lines


def run_audit_command(
    settings: Settings, log_paths: list[Path], echo: Callable[[str], None]
) -> int:
    """`jetrack audit`: with the data dir free, every check; while the server holds it, all
    but the event-table check. Returns the exit code."""
    try:
        stores = open_stores(settings)
    except ConfigError as exc:
        if "in use" not in str(exc):
            echo(f"jetrack: error: {exc}")
            return 2
        stores = None
    if stores is not None:
        try:
            checks = audit_checks(settings, stores.control, stores.events, log_paths)
        finally:
            stores.close()
    else:
        control = open_control_only(settings)
        try:
            checks = audit_checks(settings, control, None, log_paths)
        finally:
            control.close()
    for line in format_report(checks):
        echo(line)
    return 0 if all(c.ok for c in checks) else 1
