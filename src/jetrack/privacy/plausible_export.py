"""The site's history in Plausible's CSV import format: one imported_<table>_<first>_<last>.csv
per imported table (jetrack.store.imported), daily sums in the site's time zone, so a
user can take their data to Plausible (or into another Jetrack, jetrack.imports.plausible).

Whole-site numbers of the range (Plausible's export has no filters); visits counted on the
day they started. Cities are left 0: Plausible wants GeoNames ids, Jetrack keeps names."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from jetrack.stats.query import DateRange
from jetrack.store.events import EventStore
from jetrack.store.imported import IMPORTED_TABLES

# Per visit (a sessions row), the sums of the visit columns' tables.
_VISIT_SUMS = {
    "visitors": "uniq(visitor_id)",
    "visits": "count()",
    "pageviews": "sum(pageviews)",
    "bounces": "sum(is_bounce)",
    "visit_duration": "sum(duration)",
    "entrances": "count()",
    "exits": "count()",
}
# Table -> (rows: "sessions" or "events", the key columns' expressions, extra WHERE).
_TABLES: dict[str, tuple[str, dict[str, str], str]] = {
    "imported_visitors": ("sessions", {}, ""),
    "imported_sources": ("sessions", {
        "source": "source", "referrer": "referrer", "utm_source": "utm_source",
        "utm_medium": "utm_medium", "utm_campaign": "utm_campaign",
        "utm_content": "utm_content", "utm_term": "utm_term", "channel": "channel"}, ""),
    "imported_pages": ("events", {"page": "pathname", "hostname": "hostname"},
                       " AND name = 'pageview'"),
    "imported_entry_pages": ("sessions", {"entry_page": "entry_page"}, ""),
    "imported_exit_pages": ("sessions", {"exit_page": "exit_page"}, ""),
    "imported_custom_events": ("events", {
        "name": "name",
        "link_url": "if(mapContains(props, 'url'), props['url'], '')",
        "path": "if(mapContains(props, 'path'), props['path'], '')"},
        " AND name NOT IN ('pageview', 'engagement')"),
    "imported_locations": ("sessions", {"country": "country_code", "region": "region_code",
                                        "city": "city_geoname_id"}, ""),
    "imported_devices": ("sessions", {"device": "device"}, ""),
    "imported_browsers": ("sessions", {"browser": "browser",
                                       "browser_version": "browser_version"}, ""),
    "imported_operating_systems": ("sessions", {"operating_system": "os",
                                                "operating_system_version": "os_version"}, ""),
}  # fmt: skip
_EVENT_SUMS = {
    "visitors": "uniq(visitor_id)",
    "visits": "uniq(session_id)",
    "pageviews": "count()",
    "events": "count()",
    "scroll_depth": "NULL",
    "pageleave_visitors": "0",
}


def _statement(table: str) -> str:
    rows, keys, where = _TABLES[table]
    time = "start" if rows == "sessions" else "timestamp"
    sums = _VISIT_SUMS if rows == "sessions" else _EVENT_SUMS
    columns = []
    for name, _ in IMPORTED_TABLES[table].columns:
        if name == "date":
            columns.append(f"toDate({time}, {{tz:String}})")
        else:
            columns.append(keys[name] if name in keys else sums[name])
    names = [name for name, _ in IMPORTED_TABLES[table].columns]
    groups = ", ".join(str(names.index(n) + 1) for n in names if n == "date" or n in keys)
    source = "sessions FINAL" if rows == "sessions" else "events"
    return (
        f"SELECT {', '.join(columns)} FROM {source} WHERE site_id = {{site:UInt32}}"
        f" AND {time} >= {{start:DateTime('UTC')}} AND {time} < {{end:DateTime('UTC')}}{where}"
        f" GROUP BY {groups} ORDER BY {groups}"
    )


def plausible_files(events: EventStore, site_id: int, span: DateRange) -> dict[str, str]:
    """File name -> CSV text of each imported table, over `span` (the dashboard's range)."""
    params = {
        "site": site_id,
        "tz": span.timezone,
        "start": _utc(span.start),
        "end": _utc(span.end),
    }
    stamp = f"{span.first_day:%Y%m%d}_{span.last_day:%Y%m%d}"
    files = {}
    for table, shape in IMPORTED_TABLES.items():
        result = events.query(_statement(table), params)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([name for name, _ in shape.columns])
        for row in result.rows:
            writer.writerow(["" if cell is None else cell for cell in row])
        files[f"{table}_{stamp}.csv"] = out.getvalue()
    return files


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")
