"""The `jetrack` command: serve, migrate, and operator tasks for users, sites and keys."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

# The settings, the stores and what they import (pydantic-settings, SQLAlchemy, pyarrow) are
# imported by the commands that use them: `jetrack --help` and the commands that need the
# control store only start without them (docs/benchmarks.md, "Process start").
if TYPE_CHECKING:
    from jetrack.config import Settings
    from jetrack.store.control import ControlStore
    from jetrack.store.stores import Stores

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 2) -> None:
    click.echo(f"jetrack: error: {message}", err=True)
    sys.exit(code)


def settings_or_exit(**overrides: Any) -> Settings:
    from jetrack.config import ConfigError, load_settings
    from jetrack.logs import configure_logging

    try:
        settings = load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        fail(str(exc))
        raise  # unreachable; keeps mypy sure of the type
    configure_logging(settings.log_level)
    return settings


@contextmanager
def opened_control(settings: Settings) -> Iterator[ControlStore]:
    from jetrack.config import ConfigError
    from jetrack.store.stores import open_control_only

    try:
        control = open_control_only(settings)
    except ConfigError as exc:
        fail(str(exc))
        raise
    try:
        yield control
    finally:
        control.close()


@contextmanager
def opened_stores(settings: Settings) -> Iterator[Stores]:
    from jetrack.config import ConfigError
    from jetrack.store.stores import open_stores

    try:
        stores = open_stores(settings)
    except ConfigError as exc:
        fail(str(exc))
        raise
    try:
        yield stores
    finally:
        stores.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jetrack")
def main() -> None:
    """Jetrack: privacy-first web analytics. Settings come from JETRACK_* variables
    (see docs/configuration.md)."""


@main.command()
@click.option("--host", help="Address to listen on (JETRACK_HOST).")
@click.option("--port", type=int, help="Port to listen on (JETRACK_PORT).")
@click.option(
    "--certfile", type=click.Path(dir_okay=False, path_type=Path), help="TLS certificate (PEM)."
)
@click.option(
    "--keyfile", type=click.Path(dir_okay=False, path_type=Path), help="TLS private key (PEM)."
)
@click.option(
    "--server", type=click.Choice(["uvicorn", "granian"]), help="HTTP server (JETRACK_SERVER)."
)
@click.option(
    "--workers",
    type=int,
    help="Processes on this machine (JETRACK_WORKERS); above 1 needs the shared mode.",
)
def serve(
    host: str | None,
    port: int | None,
    certfile: Path | None,
    keyfile: Path | None,
    server: str | None,
    workers: int | None,
) -> None:
    """Serve Jetrack over HTTP (HTTPS with --certfile/--keyfile)."""
    from jetrack.config import ConfigError
    from jetrack.server import run_server

    settings = settings_or_exit(
        host=host, port=port, certfile=certfile, keyfile=keyfile, server=server, workers=workers
    )
    try:
        run_server(settings)
    except ConfigError as exc:
        fail(str(exc))


@main.command()
def migrate() -> None:
    """Apply pending migrations to the control and event stores."""
    settings = settings_or_exit()
    with opened_stores(settings):
        click.echo(f"migrated: control store and event store in {settings.data_dir}")


@main.command("move-events")
@click.option(
    "--to",
    "to_url",
    required=True,
    help="The ClickHouse server to copy into: http(s)://[user:password@]host[:port]/database "
    "(clickhouse:// is http://).",
)
@click.option("--cluster", help="Its cluster name, to create the tables ON CLUSTER.")
@click.option(
    "--batch-rows", type=click.IntRange(1, 1_000_000), default=100_000, show_default=True,
    help="Rows copied per batch.",
)  # fmt: skip
def move_events_command(to_url: str, cluster: str | None, batch_rows: int) -> None:
    """Copy the event store (events, visits, rollups) to a ClickHouse server. Stop
    `jetrack serve` first; run it again after an interruption: it goes on where it was."""
    from jetrack.config import ConfigError, load_settings
    from jetrack.store.events import Limits, ServerEventStore
    from jetrack.store.move import move_events

    settings = settings_or_exit()
    try:
        target_settings = load_settings(clickhouse_url=to_url, clickhouse_cluster=cluster)
    except ConfigError as exc:
        fail("--to/--cluster: " + str(exc).split(": ", 1)[1])
    if settings.clickhouse_url and settings.clickhouse_url == to_url:
        fail("--to: that is the event store itself (JETRACK_CLICKHOUSE_URL)")
    assert target_settings.clickhouse_url is not None
    with opened_stores(settings) as stores:
        try:
            target = ServerEventStore(target_settings.clickhouse_url, Limits())
        except Exception as exc:
            fail(f"--to: cannot reach the ClickHouse server: {exc}")
            raise
        try:
            report = move_events(
                stores.events, target, cluster=cluster, batch_rows=batch_rows, progress=click.echo
            )
        except Exception as exc:
            fail(f"move-events stopped (run it again to go on): {exc}", code=1)
        finally:
            target.close()
    total = ", ".join(f"{table} {rows}" for table, rows in report.tables.items())
    click.echo(
        f"moved: {len(report.copied)} partition(s) copied, {report.skipped} already there; "
        f"rows: {total}"
    )


@main.command()
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def backup(target: Path) -> None:
    """Write an encrypted backup of the embedded data dir to TARGET (stop the server first)."""
    from jetrack.config import ConfigError
    from jetrack.store.backup import BackupError, write_backup

    settings = settings_or_exit()
    try:
        summary = write_backup(settings, target)
    except (ConfigError, BackupError) as exc:
        fail(str(exc))
        return
    sealed = "AES-256-GCM with the instance key" if summary.encrypted else "NOT encrypted"
    click.echo(f"backup: {summary.files} files, {summary.bytes_in} bytes to {target} ({sealed})")


@main.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(source: Path) -> None:
    """Restore a backup into the configured data dir, which must hold no data."""
    from jetrack.config import ConfigError
    from jetrack.store.backup import BackupError, restore_backup

    settings = settings_or_exit()
    try:
        files = restore_backup(settings, source)
    except (ConfigError, BackupError) as exc:
        fail(str(exc))
        return
    click.echo(f"restore: {files} files into {settings.data_dir}")


@main.group()
def user() -> None:
    """Manage accounts."""


@user.command("create")
@click.argument("email")
@click.option("--name", default="", help="Display name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--admin", is_flag=True, help="Make the account an instance admin.")
def user_create(email: str, name: str, password_stdin: bool, admin: bool) -> None:
    """Create an account (the first of an empty instance, or with --admin, is an admin)."""
    from jetrack.accounts.users import AccountError, create_user

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    with opened_control(settings_or_exit()) as control:
        try:
            with control.session() as session:
                created = create_user(
                    session, email, name=name, password=password, admin=True if admin else None
                )
                # The operator vouches for the address: no confirmation mail needed.
                created.email_verified_at = created.created_at or datetime.now(UTC)
                label = " (instance admin)" if created.is_admin else ""
                click.echo(f"created user {created.email}{label}")
        except AccountError as exc:
            fail(f"{exc.field}: {exc}")


@user.command("erase")
@click.argument("email")
@click.option(
    "--successor",
    default="",
    help="Email of the account that becomes admin (needed when EMAIL is the last admin).",
)
def user_erase(email: str, successor: str) -> None:
    """Lock an account and request its erasure (the purge erases it after the grace days)."""
    from jetrack.accounts.users import AccountError, find_user
    from jetrack.privacy.erasure import lock_for_erasure

    settings = settings_or_exit()
    with opened_control(settings) as control:
        try:
            with control.session() as session:
                account = find_user(session, email)
                if account is None:
                    fail(f"EMAIL: no account has the email {email}")
                    return
                lock_for_erasure(session, account.id, settings.erasure_grace_days, successor)
                click.echo(
                    f"locked {account.email}; erased after {settings.erasure_grace_days} days"
                )
        except AccountError as exc:
            fail(f"--{exc.field}: {exc}")


@main.group()
def site() -> None:
    """Manage sites."""


@site.command("add")
@click.argument("domain")
@click.option("--owner", required=True, help="Email of the owning account.")
@click.option("--timezone", default="UTC", show_default=True, help="IANA time zone for reports.")
def site_add(domain: str, owner: str, timezone: str) -> None:
    """Register a site to track."""
    from jetrack.accounts.users import find_user
    from jetrack.sites.sites import SiteError, add_site

    with opened_control(settings_or_exit()) as control:
        try:
            with control.session() as session:
                owner_user = find_user(session, owner)
                if owner_user is None:
                    fail(
                        f"--owner: no account with email {owner}; create it with `jetrack user create`"
                    )
                    return
                added = add_site(session, owner_user, domain, timezone=timezone)
                click.echo(
                    f"added site {added.domain} ({added.timezone}) owned by {owner_user.email}"
                )
        except SiteError as exc:
            fail(f"{exc.field}: {exc}")


@site.command("list")
def site_list() -> None:
    """List every site with its owner and time zone."""
    from jetrack.sites.sites import list_sites

    with opened_control(settings_or_exit()) as control, control.session() as session:
        for found in list_sites(session):
            state = " paused" if found.paused else ""
            click.echo(f"{found.domain}\t{found.timezone}\t{found.owner.email}{state}")


@main.group("api-key")
def api_key() -> None:
    """Manage Stats API keys."""


@api_key.command("create")
@click.option("--user", "email", required=True, help="Email of the key's owner.")
@click.option("--name", required=True, help="A name to recognise the key by.")
@click.option(
    "--scope",
    type=click.Choice(["stats:read:*", "sites:provision:*"]),
    default="stats:read:*",
    show_default=True,
    help="Stats API (read) or Sites API (provision sites, goals, guests).",
)
def api_key_create(email: str, name: str, scope: str) -> None:
    """Create a key; prints only the key, once (it is stored hashed)."""
    from jetrack.accounts.api_keys import create_api_key
    from jetrack.accounts.users import AccountError, find_user

    with opened_control(settings_or_exit()) as control, control.session() as session:
        owner = find_user(session, email)
        if owner is None:
            fail(f"--user: no account with email {email}")
            return
        try:
            _, key = create_api_key(session, owner, name, scope)
        except AccountError as exc:
            fail(f"--{exc.field}: {exc}")
            return
        click.echo(key)


@main.group()
def goal() -> None:
    """Manage a site's goals (conversions)."""


@contextmanager
def _site_session(domain: str) -> Iterator[tuple[Any, Any]]:
    from jetrack.sites.sites import find_site

    with opened_control(settings_or_exit()) as control, control.session() as session:
        found = find_site(session, domain)
        if found is None:
            fail(f"DOMAIN: no site {domain}; see `jetrack site list`")
        yield session, found


@goal.command("add")
@click.argument("domain")
@click.option("--page", "page_path", help="Page path; * within a segment, ** across them.")
@click.option("--event", "event_name", help="Custom event name.")
@click.option("--name", "display_name", help="Display name (default: the event, or Visit PATH).")
@click.option("--prop", "props", multiple=True, help="KEY=VALUE the event must carry (up to 3).")
@click.option(
    "--currency", help="ISO 4217 code: a revenue goal (--event only), e.g. EUR; not changeable."
)
def goal_add(
    domain: str,
    page_path: str | None,
    event_name: str | None,
    display_name: str | None,
    props: tuple[str, ...],
    currency: str | None,
) -> None:
    """Add a pageview goal (--page) or a custom event goal (--event)."""
    from jetrack.sites.goals import GoalError, create_goal, goal_spec

    if (page_path is None) == (event_name is None):
        fail("give either --page PATH or --event NAME")
    if any("=" not in p for p in props):
        fail("--prop: write KEY=VALUE")
    custom = dict(p.split("=", 1) for p in props)
    with _site_session(domain) as (session, found):
        try:
            spec = goal_spec(
                "event" if event_name is not None else "page",
                event_name=event_name,
                page_path=page_path,
                custom_props=custom,
                display_name=display_name,
                currency=currency,
            )
            added = create_goal(session, found, spec)
        except GoalError as exc:
            fail(f"{exc.field}: {exc}")
            return
        click.echo(f"added goal {added.id}: {added.display_name}")


@goal.command("list")
@click.argument("domain")
def goal_list(domain: str) -> None:
    """List a site's goals: id, display name, what it counts."""
    from jetrack.sites.goals import list_goals

    with _site_session(domain) as (session, found):
        for row in list_goals(session, found):
            target = f"event {row.event_name}" if row.event_name else f"page {row.page_path}"
            props = "".join(f" {k}={v}" for k, v in (row.custom_props or {}).items())
            money = f"\trevenue in {row.currency}" if row.currency else ""
            click.echo(f"{row.id}\t{row.display_name}\t{target}{props}{money}")


@main.group()
def rates() -> None:
    """Exchange rates that convert revenue into its goal's currency (no network needed)."""


@rates.command("show")
def rates_show() -> None:
    """The rates in use: their day, source and currencies."""
    from jetrack.stats.exchange_rates import RATES_FILE, current

    settings = settings_or_exit()
    found = current(settings.data_dir)
    installed = (settings.data_dir / RATES_FILE).exists()
    where = f"{settings.data_dir / RATES_FILE}" if installed else "packaged with Jetrack"
    click.echo(f"{found.day.isoformat()}\t{found.source or '-'}\t{where}")
    click.echo(
        f"1 {found.base} = " + ", ".join(f"{r:g} {c}" for c, r in sorted(found.rates.items()))
    )


@rates.command("update")
@click.argument("file", type=click.Path(path_type=Path))
def rates_update(file: Path) -> None:
    """Install rates from FILE: an ECB CSV (eurofxref.csv or eurofxref-hist.csv, its newest
    day) or JSON with date, base and rates. A running server uses them from its next query."""
    from jetrack.stats.exchange_rates import RatesError, install, read_file

    settings = settings_or_exit()
    try:
        found = read_file(file)
    except RatesError as exc:
        fail(f"FILE: {exc}")
        return
    path = install(settings.data_dir, found)
    click.echo(
        f"installed {len(found.rates)} rates of {found.day.isoformat()} (1 {found.base}) in {path}"
    )


@goal.command("delete")
@click.argument("domain")
@click.argument("goal_id", type=int)
def goal_delete(domain: str, goal_id: int) -> None:
    """Delete a goal by id (its events stay)."""
    from jetrack.sites.goals import delete_goal

    with _site_session(domain) as (session, found):
        if not delete_goal(session, found, goal_id):
            fail(f"GOAL_ID: site {domain} has no goal {goal_id}")
        click.echo(f"deleted goal {goal_id}")


@main.group()
def funnel() -> None:
    """Manage a site's funnels (goals completed in order within a visit)."""


def _goal_ref(session: Any, site: Any, ref: str) -> int:
    """A step given as a goal's id or its display name."""
    from jetrack.sites.goals import list_goals

    for goal in list_goals(session, site):
        if ref == str(goal.id) or ref == goal.display_name:
            return int(goal.id)
    fail(f"--step: site {site.domain} has no goal {ref!r}; see `jetrack goal list`")
    return 0


@funnel.command("add")
@click.argument("domain")
@click.option("--name", required=True, help="The funnel's name, unique on the site.")
@click.option(
    "--step", "steps", multiple=True, help="A goal (id or display name); 2 to 8, in order."
)
def funnel_add(domain: str, name: str, steps: tuple[str, ...]) -> None:
    """Add a funnel: --step GOAL for each step, in order."""
    from jetrack.sites.funnels import FunnelError, create_funnel, step_names

    with _site_session(domain) as (session, found):
        goal_ids = [_goal_ref(session, found, ref) for ref in steps]
        try:
            added = create_funnel(session, found, name, goal_ids)
        except FunnelError as exc:
            fail(f"{'--step' if exc.field == 'steps' else '--' + exc.field}: {exc}")
            return
        click.echo(f"added funnel {added.id}: {added.name} ({' -> '.join(step_names(added))})")


@funnel.command("list")
@click.argument("domain")
def funnel_list(domain: str) -> None:
    """List a site's funnels: id, name, steps."""
    from jetrack.sites.funnels import list_funnels, step_names

    with _site_session(domain) as (session, found):
        for row in list_funnels(session, found):
            click.echo(f"{row.id}\t{row.name}\t{' -> '.join(step_names(row))}")


@funnel.command("delete")
@click.argument("domain")
@click.argument("funnel_id", type=int)
def funnel_delete(domain: str, funnel_id: int) -> None:
    """Delete a funnel by id (its goals and events stay)."""
    from jetrack.sites.funnels import delete_funnel

    with _site_session(domain) as (session, found):
        if not delete_funnel(session, found, funnel_id):
            fail(f"FUNNEL_ID: site {domain} has no funnel {funnel_id}")
        click.echo(f"deleted funnel {funnel_id}")


@main.command()
@click.option(
    "--domain", default="demo.jetrack.local", show_default=True, help="Domain of the demo site."
)
@click.option(
    "--owner", default="demo@jetrack.local", show_default=True, help="Email of the demo account."
)
@click.option(
    "--days", type=click.IntRange(1, 3650), default=90, show_default=True, help="Days of traffic."
)
@click.option("--visitors-per-day", type=click.IntRange(1, 100_000), default=500, show_default=True)
@click.option(
    "--if-empty", is_flag=True, help="Only when the instance has no sites yet (used by `make run`)."
)
@click.option(
    "--login",
    "login_only",
    is_flag=True,
    help="Seed nothing: give the demo account a new password and print its login.",
)
def demo(
    domain: str, owner: str, days: int, visitors_per_day: int, if_empty: bool, login_only: bool
) -> None:
    """Seed a demo site with realistic traffic so the dashboard has something to show."""
    import secrets

    if login_only:
        _demo_login(owner, domain)
        return

    from sqlalchemy import func, select

    from jetrack.accounts.users import find_user
    from jetrack.demo import seed_demo
    from jetrack.store.models import Site

    settings = settings_or_exit()
    with opened_stores(settings) as stores:
        with stores.control.session() as session:
            if if_empty and session.scalar(select(func.count()).select_from(Site)):
                return
            password = None if find_user(session, owner) else secrets.token_urlsafe(12)
        site = seed_demo(
            stores, domain, owner, days=days, visitors_per_day=visitors_per_day, password=password
        )
        with stores.control.session() as session:
            account = find_user(session, owner)
            if account is not None and password is not None:
                account.is_admin = False  # a demo login must not own the instance
                account.email_verified_at = datetime.now(UTC)  # it has no mailbox
    if password is None:
        click.echo(f"demo site {site.domain}: {settings.base_url}/sites/{site.domain}")
    else:
        _print_login(settings.base_url, site.domain, owner, password)


def _print_login(base_url: str, domain: str, owner: str, password: str) -> None:
    """Framed, and last before `make run` serves: the one line a newcomer needs."""
    rule = "=" * 72
    click.echo(
        f"{rule}\n  Demo dashboard: {base_url.rstrip('/')}/sites/{domain}\n"
        f"  Log in as {owner} with password {password}\n"
        f"  Lost it? `jetrack demo --login` sets and prints a new one.\n{rule}"
    )


def _demo_login(owner: str, domain: str) -> None:
    """Only a hash of the password is stored: a lost one is replaced, not recovered."""
    import secrets

    from jetrack.accounts.users import find_user, hash_password

    settings = settings_or_exit()
    password = secrets.token_urlsafe(12)
    with opened_control(settings) as control, control.session() as session:
        account = find_user(session, owner)
        if account is None:
            fail(f"--owner: no account {owner}; `jetrack demo` creates the demo site and account")
            return
        if account.is_admin:
            fail(
                f"--owner: {owner} is an instance admin, not a demo account; use the password reset"
            )
        account.password_hash = hash_password(password)
        session.commit()
    _print_login(settings.base_url, domain, owner, password)


# --- Reports and alerts (docs/reports.md) ---------------------------------------------------


@main.group()
def reports() -> None:
    """Weekly and monthly reports by mail."""


@reports.command("send")
@click.argument("domain")
@click.option(
    "--period", type=click.Choice(["week", "month"]), default="week", show_default=True,
    help="The last whole week (Monday to Sunday) or calendar month, in the site's time zone.",
)  # fmt: skip
@click.option("--to", "to", required=True, help="The address to mail the report to.")
def reports_send(domain: str, period: str, to: str) -> None:
    """Mail one report of DOMAIN now (not queued, sent once)."""
    from jetrack.jobs.reports import send_now
    from jetrack.notify.mail import MailNotSent
    from jetrack.notify.reports import period_label

    settings = settings_or_exit()
    if not settings.smtp_host:
        fail("JETRACK_SMTP_HOST is unset: reports need an SMTP server")
    with opened_stores(settings) as stores:
        try:
            report = send_now(stores, domain, period, to)
        except LookupError as exc:
            fail(str(exc))
            return
        except MailNotSent as exc:
            fail(f"the SMTP server did not take the mail ({exc})", code=1)
            return
    visitors = round(report.figure("visitors").value)
    click.echo(
        f"sent the {period}ly report of {domain} ({period_label(report)}, {visitors} visitors) to {to}"
    )


@main.group()
def alerts() -> None:
    """Traffic alerts (tracking stopped, traffic is back)."""


@alerts.command("check")
def alerts_check() -> None:
    """Run every alert check now; mail what is due and print it."""
    from jetrack.jobs.alerts import check_alerts, mails_waiting
    from jetrack.jobs.runner import run_pending

    settings = settings_or_exit()
    if not settings.smtp_host:
        fail("JETRACK_SMTP_HOST is unset: alerts need an SMTP server")
    with opened_stores(settings) as stores:
        outcomes = check_alerts(stores)
        run_pending(stores, kinds=("alert_mail",))
        waiting = mails_waiting(stores.control)
    for outcome in outcomes:
        click.echo(outcome.describe())
    click.echo(f"alerts: {len(outcomes)} sent")
    if waiting:
        click.echo(f"alerts: {waiting} mail(s) not delivered yet; the server retries them")


# --- Imports of a site's history (docs/imports.md) ------------------------------------------


@main.group("import")
def import_() -> None:
    """Import a site's history from another tool (docs/imports.md)."""


def run_import_command(
    domain: str,
    kind: str,
    source: str,
    params: dict[str, Any],
    secrets: dict[str, str] | None = None,
) -> None:
    """Record an import of DOMAIN and run it here with the server's job code; a kill leaves
    it to `jetrack import resume` (or the server's start) to finish from its checkpoint."""
    from jetrack.imports import registry
    from jetrack.imports.context import hold_secrets
    from jetrack.jobs.runner import run_pending
    from jetrack.sites.sites import find_site
    from jetrack.store import job_queue

    with opened_stores(settings_or_exit()) as stores:
        with stores.control.session() as session:
            found = find_site(session, domain)
            if found is None:
                fail(f"--site: no site {domain}; see `jetrack site list`")
                return
            import_id = registry.create_import(session, found.id, kind, source, params).id
        if secrets:
            hold_secrets(import_id, secrets)
        if stores.settings.database_url is None:
            job_queue.requeue_running(stores.control)  # we hold the data dir
        run_pending(stores, kinds=(registry.JOB_KIND,))
        with stores.control.session() as session:
            record = registry.get_import(session, import_id)
            if record is None or record.status != registry.DONE:
                fail(f"import {import_id}: {record.error if record else 'deleted'}", code=1)
                return
            days = f"{record.first_day} to {record.last_day}" if record.first_day else "no days"
            click.echo(f"import {import_id} ({kind}): {record.rows} rows, {days}")


@import_.command("plausible")
@click.option("--site", "domain", required=True, help="The site's domain.")
@click.argument("export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_plausible(domain: str, export: Path) -> None:
    """Import Plausible's CSV export (the ZIP, or one imported_*.csv) into DOMAIN."""
    run_import_command(domain, "plausible", export.name, {"path": str(export.resolve())})


@import_.command("resume")
def import_resume() -> None:
    """Finish the imports a stopped process left (the server does it at its start)."""
    from jetrack.imports import registry
    from jetrack.jobs.runner import run_pending
    from jetrack.store import job_queue

    with opened_stores(settings_or_exit()) as stores:
        if stores.settings.database_url is None:
            job_queue.requeue_running(stores.control)
        ran = run_pending(stores, kinds=(registry.JOB_KIND,))
        click.echo(f"import: {ran} import(s) run")


# --- Privacy: purge, retention, audit (docs/privacy.md, docs/operations.md) -----------------


@main.command()
def purge() -> None:
    """Run the purge now: due account erasures, deleted sites' data, expired exports."""
    from jetrack.jobs.runner import PURGE_KINDS, run_now

    with opened_stores(settings_or_exit()) as stores:
        ran = run_now(stores, "purge", PURGE_KINDS)
        click.echo(f"purge: {ran} job(s) run")


@main.command()
def retention() -> None:
    """Delete analytics data older than each site's retention period now."""
    from jetrack.jobs.runner import run_now

    with opened_stores(settings_or_exit()) as stores:
        run_now(stores, "retention")
        click.echo("retention: done")


@main.command()
@click.option(
    "--logs",
    "log_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="A log file or directory to scan for IP addresses (repeatable).",
)
def audit(log_paths: tuple[Path, ...]) -> None:
    """Print the privacy report; exit 1 when an invariant fails."""
    from jetrack.privacy.audit import run_audit_command

    sys.exit(run_audit_command(settings_or_exit(), list(log_paths), click.echo))


@main.group()
def billing() -> None:
    """Billing through Stripe (JETRACK_BILLING): teams' subscriptions."""


@billing.command("sync")
@click.option(
    "--team", "team_id", type=int, required=True, help="Team id (see `jetrack plan list`)."
)
def billing_sync(team_id: int) -> None:
    """Read a team's subscription from Stripe again and apply it (after lost webhooks)."""
    from jetrack.billing.checkout import sync_team
    from jetrack.billing.provider import BillingUnavailable
    from jetrack.billing.subscriptions import billing_of
    from jetrack.store.models import utcnow

    settings = settings_or_exit()
    if not settings.billing:
        fail("JETRACK_BILLING is off: there is nothing to sync")
    with opened_control(settings) as control:
        try:
            key = sync_team(control, settings, team_id, utcnow())
        except BillingUnavailable as exc:
            fail(f"Stripe could not be reached: {exc}")
            return
        if key is None:
            fail(f"--team: team {team_id} has no Stripe customer or subscription")
            return
        with control.session() as session:
            row = billing_of(session, team_id)
            status = row.status if row is not None else None
        click.echo(f"team {team_id}: plan {key}, subscription {status}")


@main.group()
def plan() -> None:
    """Plans of teams (retention and usage); a team without one follows the instance."""


@plan.command("list")
def plan_list() -> None:
    """List the plans and every team's plan."""
    from sqlalchemy import select

    from jetrack.billing.plans import PLANS
    from jetrack.store.models import Team

    for known in PLANS.values():
        click.echo(
            f"plan {known.key}\t{known.name}\tkeeps {known.retention_days} days\t{known.monthly_pageviews} pageviews/month"
        )
    with opened_control(settings_or_exit()) as control, control.session() as session:
        for team in session.scalars(select(Team).order_by(Team.id)):
            click.echo(
                f"team {team.id}\t{team.name}\t{team.plan or 'self-hosted (instance settings)'}"
            )


@plan.command("set")
@click.option(
    "--team", "team_id", type=int, required=True, help="Team id (see `jetrack plan list`)."
)
@click.argument("plan_key")
def plan_set(team_id: int, plan_key: str) -> None:
    """Put a team on PLAN_KEY (free, growth, business) or `none` for the instance's settings."""
    from jetrack.billing.changes import apply_plan
    from jetrack.billing.plans import PLANS
    from jetrack.store.models import Team, utcnow

    if plan_key != "none" and plan_key not in PLANS:
        fail(f"PLAN_KEY: must be one of {', '.join(PLANS)} or none")
    with opened_control(settings_or_exit()) as control, control.session() as session:
        team = session.get(Team, team_id)
        if team is None:
            fail(f"--team: no team with id {team_id}; see `jetrack plan list`")
            return
        change = apply_plan(
            session, team, None if plan_key == "none" else plan_key, reason="operator", now=utcnow()
        )
        click.echo(f"team {team.id} ({team.name}): {team.plan or 'instance settings'}")
        if change is not None and change.notice_ends_at is not None:
            click.echo(
                f"retention: the longer retention stays until {change.notice_ends_at:%Y-%m-%d}"
                " (downgrade notice; the owners are told and offered the export)"
            )


# Server logs, GoatCounter and Umami: replayed as events in this process; running the same
# command again after an interruption resumes the import (docs/imports.md).


def _import(domain: str, kind: str, source: str, params: dict[str, Any], **secrets: str) -> None:
    from jetrack.imports.context import ImportRefused
    from jetrack.imports.foreground import run_in_foreground
    from jetrack.sites.sites import find_site

    def report(done: int, total: int) -> None:
        if total:
            click.echo(f"\r{kind}: {done * 100 // total}%", nl=False, err=True)

    with opened_stores(settings_or_exit()) as stores:
        with stores.control.session() as session:
            site = find_site(session, domain)
            if site is not None:
                session.expunge(site)
        if site is None:
            fail(f"--site: no site {domain}; see `jetrack site list`")
            return
        try:
            outcome = run_in_foreground(stores, site, kind, source, params, secrets, report)
        except ImportRefused as exc:
            fail(str(exc))
            return
    click.echo("", err=True)
    skipped = ", ".join(f"{reason} {count}" for reason, count in sorted(outcome.skipped.items()))
    days = f" from {outcome.first_day} to {outcome.last_day}" if outcome.rows else ""
    click.echo(
        f"import {outcome.import_id}{' (resumed)' if outcome.resumed else ''}:"
        f" {outcome.rows} events{days}; skipped: {skipped or 'none'}"
    )


_SITE = click.option("--site", "domain", required=True, help="The site's domain.")


@import_.command("access-log")
@_SITE
@click.option(
    "--format",
    "log_format",
    type=click.Choice(["combined", "caddy", "cloudfront"]),
    default="combined",
    show_default=True,
    help="nginx/Apache combined, Caddy's JSON log, or CloudFront's standard log.",
)
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def import_access_log(domain: str, log_format: str, files: tuple[Path, ...]) -> None:
    """Import page views from access logs (plain or gzip), oldest file first."""
    paths = [str(path.resolve()) for path in files]
    _import(
        domain,
        "access-log",
        ", ".join(path.name for path in files),
        {"paths": paths, "format": log_format},
    )


@import_.command("goatcounter")
@_SITE
@click.argument("export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_goatcounter(domain: str, export: Path) -> None:
    """Import GoatCounter's CSV export (version 2; .csv or .csv.gz)."""
    _import(domain, "goatcounter", export.name, {"paths": [str(export.resolve())]})


@import_.command("umami")
@_SITE
@click.option(
    "--database-url",
    required=True,
    envvar="UMAMI_DATABASE_URL",
    help="Umami's PostgreSQL database, postgresql://... (or UMAMI_DATABASE_URL); never stored.",
)
@click.option("--website-id", required=True, help="The website's id (a UUID) in Umami.")
def import_umami(domain: str, database_url: str, website_id: str) -> None:
    """Import a website's raw events and sessions from Umami's own PostgreSQL tables."""
    _import(
        domain,
        "umami",
        f"Umami website {website_id}",
        {"website_id": website_id},
        database_url=database_url,
    )


if __name__ == "__main__":
    main()
