"""The custom property keys a site's events carry in a date range, most used first.

The Stats API can break a property down but cannot list which properties exist; the
dashboard's Properties panel needs that list to offer a choice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jetrack.stats.engine import execute, first_data_day
from jetrack.stats.params import Params
from jetrack.stats.parse import needs_first_data_day, parse
from jetrack.stats.query import SiteInfo
from jetrack.stats.schema import validate_request
from jetrack.stats.sql import Statement
from jetrack.store.events import EventStore

MAX_PROP_KEYS = 100  # a select the reader scrolls through, not an export


def top_prop_keys(
    events: EventStore,
    site: Any,
    date_range: Any,
    *,
    limit: int = MAX_PROP_KEYS,
    now: datetime | None = None,
) -> list[str]:
    """Up to `limit` property keys seen in `date_range` (a Stats API v2 `date_range`), the
    keys carried by the most visitors first. Raises QueryError for a bad date range."""
    info = SiteInfo.from_site(site)
    request = {"site_id": info.domain, "metrics": ["visitors"], "date_range": date_range}
    validate_request(request)
    first_day = first_data_day(events, info) if needs_first_data_day(request) else None
    query = parse(request, info, now or datetime.now(UTC), first_day)
    params = Params()
    start = params.add(query.date_range.start.strftime("%Y-%m-%d %H:%M:%S"), "DateTime('UTC')")
    end = params.add(query.date_range.end.strftime("%Y-%m-%d %H:%M:%S"), "DateTime('UTC')")
    sql = (
        "SELECT key FROM events ARRAY JOIN mapKeys(props) AS key"
        f" WHERE site_id = {params.add(info.id, 'UInt32')}"
        f" AND timestamp >= {start} AND timestamp < {end} AND name != 'engagement'"
        f" GROUP BY key ORDER BY uniq(visitor_id) DESC, key LIMIT {params.add(limit, 'UInt32')}"
    )
    _, rows = execute(events, Statement(sql, params.values, 0, []))
    return [str(row[0]) for row in rows]
