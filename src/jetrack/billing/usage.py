"""Usage metering: a team's billable events in its billing month, counted from the event
store by the quota job and kept in `team_usage`, so that no page load counts them.

Billable: pageviews and custom events of live traffic on all the team's sites; engagement
pings and imported history (import_id != 0) are not billed.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from jetrack.store.events import EventStore
from jetrack.store.models import Site, TeamUsage, as_utc

# One query over the team's sites and month; the events table's key starts (site_id, day).
BILLABLE_EVENTS_SQL = (
    "SELECT count() FROM events"
    " WHERE site_id IN {sites:Array(UInt32)}"
    " AND timestamp >= {start:DateTime('UTC')} AND timestamp < {end:DateTime('UTC')}"
    " AND name != 'engagement' AND import_id = 0"
)


class Period(NamedTuple):
    """A billing month: [start, end) in UTC."""

    start: datetime
    end: datetime


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` moved by whole months, its day clamped to the target month's last day."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def billing_month(now: datetime, anchor: datetime | None = None) -> Period:
    """The billing month holding `now`: months from the subscription's `anchor` (any
    renewal instant; yearly plans have monthly quotas too), or the calendar month (UTC)
    without a subscription."""
    now = now.astimezone(UTC)
    if anchor is None:
        start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return Period(start, add_months(start, 1))
    anchor = anchor.astimezone(UTC)
    months = (now.year - anchor.year) * 12 + now.month - anchor.month
    if add_months(anchor, months) > now:
        months -= 1
    return Period(add_months(anchor, months), add_months(anchor, months + 1))


def period_anchor(session: Session, team_id: int) -> datetime | None:
    """When the team's subscription renews, which its billing months follow; None: the
    calendar month."""
    # LEAD: billcore's subscription row (team_billing.current_period_end) is the anchor
    # once hx/billcore is merged: return it here when the team has an active subscription.
    del session, team_id
    return None


def team_period(session: Session, team_id: int, now: datetime) -> Period:
    return billing_month(now, period_anchor(session, team_id))


def team_site_ids(session: Session, team_id: int) -> list[int]:
    return list(session.scalars(select(Site.id).where(Site.team_id == team_id).order_by(Site.id)))


def count_billable_events(events: EventStore, site_ids: list[int], period: Period) -> int:
    """Billable events of `site_ids` in `period` (one query through the store's choke point)."""
    if not site_ids:
        return 0
    result = events.query(
        BILLABLE_EVENTS_SQL,
        {
            "sites": site_ids,
            "start": period.start.strftime("%Y-%m-%d %H:%M:%S"),
            "end": period.end.strftime("%Y-%m-%d %H:%M:%S"),
        },
    )
    return int(result.rows[0][0])


def refresh_usage(
    session: Session, events: EventStore, team_id: int, plan: str | None, now: datetime
) -> TeamUsage:
    """Count the team's billable events of its current billing month into its usage row."""
    period = team_period(session, team_id, now)
    row = session.get(TeamUsage, (team_id, period.start))
    if row is None:
        row = TeamUsage(team_id=team_id, period_start=period.start, plan=plan)
        session.add(row)
    row.period_end = period.end
    row.billable_events = count_billable_events(events, team_site_ids(session, team_id), period)
    row.counted_at = now
    session.flush()
    return row


def current_usage(session: Session, team_id: int, now: datetime) -> TeamUsage | None:
    """The team's last counted usage of the billing month holding `now` (no event query);
    None before the job has counted this month."""
    row = session.scalar(
        select(TeamUsage)
        .where(TeamUsage.team_id == team_id, TeamUsage.period_start <= now)
        .order_by(TeamUsage.period_start.desc())
        .limit(1)
    )
    if row is None or as_utc(row.period_end) <= now:
        return None
    return row
