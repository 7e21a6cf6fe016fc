"""Which hours of the last weeks had events, per site: the history the tracking-stopped
alert learns each site's normal silences from (jetrack.notify.silence decides)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from jetrack.store.events import EventStore


@dataclass(frozen=True, slots=True)
class Activity:
    """A site's hours (UTC starts) with at least one event since `since`, oldest first,
    and the time of its last event (None: none since `since`)."""

    hours: tuple[datetime, ...]
    last_event: datetime | None


STATEMENT = """
SELECT site_id, toUnixTimestamp(toStartOfHour(timestamp)) AS hour,
  toUnixTimestamp(max(timestamp)) AS last
FROM events
WHERE site_id IN {ids:Array(UInt32)} AND timestamp >= toDateTime({since:UInt32}, 'UTC')
  AND timestamp <= toDateTime({until:UInt32}, 'UTC')
GROUP BY site_id, hour
ORDER BY site_id, hour"""


def active_hours(
    events: EventStore, site_ids: Sequence[int], since: datetime, until: datetime
) -> dict[int, Activity]:
    """Every one of `site_ids`, with its active hours in [since, until], in one statement."""
    if not site_ids:
        return {}
    params = {
        "ids": list(site_ids),
        "since": int(since.timestamp()),
        "until": int(until.timestamp()),
    }
    found = events.query(STATEMENT, params)
    hours: dict[int, list[datetime]] = {site_id: [] for site_id in site_ids}
    last: dict[int, datetime] = {}
    for site_id, hour, newest in found.rows:
        hours[int(site_id)].append(datetime.fromtimestamp(int(hour), UTC))
        last[int(site_id)] = datetime.fromtimestamp(int(newest), UTC)
    return {site_id: Activity(tuple(hours[site_id]), last.get(site_id)) for site_id in site_ids}
