"""The sessions table (one row per visit): its columns and its rebuild from events.

Ingestion writes sessions rows as visits go (`jetrack.ingest.buffer`); anything that puts
events in the store another way (demo data, benchmarks, test fixtures, an old journal)
calls `rebuild_sessions` afterwards. Both follow the same definitions, in SQL here and in
`jetrack.ingest.sessions.VisitState`, and a test checks they agree."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from jetrack.store.events import EventStore
from jetrack.store.schema import SESSION_COLUMNS, TALLY_COLUMNS, VISIT_ATTRIBUTES

# TALLY_COLUMNS, VISIT_ATTRIBUTES then import_id, over the visit's events without engagement
# pings. Aliases would shadow the events
# columns inside the other aggregates, so the columns go by position instead.
_AGGREGATES = [
    "site_id",
    "session_id",
    "argMin(visitor_id, timestamp)",
    "min(timestamp)",
    "count()",  # version: one more for every pageview or custom event
    "argMaxIf(hostname, timestamp, name = 'pageview')",
    "argMinIf(hostname, timestamp, name = 'pageview')",
    "any(entry_page)",
    "argMaxIf(pathname, timestamp, name = 'pageview')",
    "countIf(name = 'pageview')",
    "countIf(name != 'pageview')",
    "countIf(name != 'pageview' AND interactive = 1)",
    "toUInt32(dateDiff('second', min(timestamp), max(timestamp)))",
    *[f"any({column})" for column in VISIT_ATTRIBUTES],
    "any(import_id)",
]

# A visit is rebuilt from its events this far either side of the window asked for.
VISIT_MARGIN = timedelta(days=1)


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def rebuild_sessions(
    events: EventStore,
    *,
    site_id: int | None = None,
    session_ids: Iterable[int] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> None:
    """Recompute the sessions rows of visits from their events (all of them by default).

    `site_id` and `session_ids` narrow to those visits; `since`/`until` (UTC) to visits
    with an event in [since, until), each rebuilt from its events up to a day either
    side. The rows replace earlier ones of the same visits (same or higher version)."""
    params: dict[str, Any] = {}
    scope = ["name != 'engagement'"]
    if site_id is not None:
        scope.append("site_id = {site:UInt32}")
        params["site"] = site_id
    if session_ids is not None:
        params["ids"] = sorted(set(session_ids))
        if not params["ids"]:
            return
        scope.append("session_id IN {ids:Array(UInt64)}")
    where = list(scope)
    window = []
    if since is not None:
        window.append("timestamp >= {since:DateTime('UTC')}")
        where.append("timestamp >= {wide_since:DateTime('UTC')}")
        params |= {"since": _ts(since), "wide_since": _ts(since - VISIT_MARGIN)}
    if until is not None:
        window.append("timestamp < {until:DateTime('UTC')}")
        where.append("timestamp < {wide_until:DateTime('UTC')}")
        params |= {"until": _ts(until), "wide_until": _ts(until + VISIT_MARGIN)}
    if window:
        where.append(
            "(site_id, session_id) IN (SELECT site_id, session_id FROM events"
            f" WHERE {' AND '.join(scope + window)})"
        )
    events.command(
        f"INSERT INTO sessions ({', '.join(SESSION_COLUMNS)})"
        f" SELECT {', '.join(_AGGREGATES)} FROM events WHERE {' AND '.join(where)}"
        " GROUP BY site_id, session_id",
        params,
    )


__all__ = ["SESSION_COLUMNS", "TALLY_COLUMNS", "VISIT_ATTRIBUTES", "rebuild_sessions"]
