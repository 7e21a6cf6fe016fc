"""Small builders for privacy tests: accounts, sites and events in the real stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jetrack.accounts.users import create_user
from jetrack.sites.sites import add_site
from jetrack.store.events import EventStore
from jetrack.store.models import User, utcnow
from jetrack.store.schema import EventRow
from jetrack.store.stores import Stores

PASSWORD = "correct horse battery"


def make_account(
    stores: Stores, email: str, *domains: str, admin: bool = False
) -> tuple[int, list[int]]:
    """A verified account owning `domains`; returns (user id, site ids)."""
    with stores.control.session() as session:
        user = create_user(session, email, name=email.split("@")[0], password=PASSWORD)
        user.email_verified_at = utcnow()
        user.is_admin = admin
        session.flush()
        site_ids = [add_site(session, user, domain).id for domain in domains]
        return user.id, site_ids


def insert_events(events: EventStore, site_id: int, moments: list[datetime]) -> None:
    for moment in moments:
        events.command(
            "INSERT INTO events (site_id, timestamp, name, pathname, visitor_id, session_id)"
            " VALUES ({site:UInt32}, {ts:DateTime('UTC')}, 'pageview', '/', 1, 1)",
            {"site": site_id, "ts": moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")},
        )


def event_times(events: EventStore, site_id: int) -> list[datetime]:
    result = events.query(
        "SELECT toUnixTimestamp(timestamp) FROM events WHERE site_id = {site:UInt32}"
        " ORDER BY timestamp",
        {"site": site_id},
    )
    return [datetime.fromtimestamp(int(row[0]), UTC) for row in result.rows]


def count_events(events: EventStore, site_id: int) -> int:
    result = events.query(
        "SELECT count() FROM events WHERE site_id = {site:UInt32}", {"site": site_id}
    )
    return int(result.rows[0][0])


def days_ago(days: float, now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) - timedelta(days=days)


def user_exists(stores: Stores, user_id: int) -> bool:
    with stores.control.session() as session:
        return session.get(User, user_id) is not None


def journal_row(site_id: int, moment: datetime | None = None) -> EventRow:
    """One events row as the write buffer journals it."""
    import pyarrow as pa

    from jetrack.store.schema import EVENT_ARROW_COLUMNS as COLUMNS

    values: list[object] = []
    for name, kind in COLUMNS:
        if name == "site_id":
            values.append(site_id)
        elif name == "timestamp":
            values.append(int((moment or datetime.now(UTC)).timestamp()))
        elif name == "props":
            values.append({})
        elif name == "revenue_amount":
            values.append("0")
        elif pa.types.is_integer(kind):
            values.append(1)
        else:
            values.append("pageview" if name == "name" else "")
    return EventRow._make(values)
