"""Dimensions as a table: the column (or expression) behind each API name."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from jetrack.stats.params import Params
from jetrack.stats.query import PROPS_PREFIX
from jetrack.store.schema import SOURCE_SQL


@dataclass(frozen=True)
class Dimension:
    name: str
    # An expression over one events row, or (visit and session levels) one sessions row,
    # which has the same column names; internal text, never user input.
    column: str
    description: str
    # "event": may differ between events of a visit; "visit": fixed at session start;
    # "session": known only once the whole visit is seen.
    level: str
    # A lookup from the stored code to the label shown (country and region names).
    label: str | None = None
    # Shown (and filtered) as a JSON number: the stored UInt32, as text in SQL.
    numeric: bool = False


_ROWS = [
    Dimension("event:page", "pathname", "page path of the event", "event"),
    Dimension("event:hostname", "hostname", "hostname of the event", "event"),
    Dimension("event:name", "name", "event name (pageview or a custom event)", "event"),
    Dimension("visit:entry_page", "entry_page", "first page of the visit", "visit"),
    # Only sessions rows have the entry page's hostname; events rows reach it through them.
    Dimension(
        "visit:entry_page_hostname",
        "entry_page_hostname",
        "hostname of the visit's first page",
        "session",
    ),
    Dimension("visit:exit_page", "exit_page", "last page viewed in the visit", "session"),
    Dimension(
        "visit:exit_page_hostname", "hostname", "hostname of the last page viewed", "session"
    ),
    Dimension(
        "visit:source",
        SOURCE_SQL,
        "traffic source; empty is Direct / None",
        "visit",
    ),
    Dimension("visit:referrer", "referrer", "referrer URL without scheme", "visit"),
    Dimension("visit:channel", "channel", "acquisition channel", "visit"),
    Dimension("visit:utm_medium", "utm_medium", "utm_medium of the entry page", "visit"),
    Dimension("visit:utm_source", "utm_source", "utm_source of the entry page", "visit"),
    Dimension("visit:utm_campaign", "utm_campaign", "utm_campaign of the entry page", "visit"),
    Dimension("visit:utm_content", "utm_content", "utm_content of the entry page", "visit"),
    Dimension("visit:utm_term", "utm_term", "utm_term of the entry page", "visit"),
    Dimension("visit:device", "device", "device type", "visit"),
    Dimension("visit:browser", "browser", "browser name", "visit"),
    Dimension("visit:browser_version", "browser_version", "browser version", "visit"),
    Dimension("visit:os", "os", "operating system", "visit"),
    Dimension("visit:os_version", "os_version", "operating system version", "visit"),
    Dimension("visit:country", "country_code", "ISO 3166-1 alpha-2 country code", "visit"),
    Dimension("visit:country_name", "country_code", "country name", "visit", label="country"),
    Dimension("visit:region", "region_code", "ISO 3166-2 region code", "visit"),
    Dimension("visit:region_name", "region_code", "region name", "visit", label="region"),
    Dimension(
        "visit:city",
        "toString(city_geoname_id)",
        "GeoNames id of the city (0 unknown)",
        "visit",
        numeric=True,
    ),
    Dimension("visit:city_name", "city", "city name", "visit"),
    Dimension("visit:screen", "screen_size", "screen size class", "visit"),
    Dimension("visit:language", "language", "browser language", "visit"),
]
DIMENSIONS = {row.name: row for row in _ROWS}
# Columns of the sessions table only: filtered on events rows through their visit's row,
# grouped by on the sessions part only.
SESSIONS_TABLE_ONLY = frozenset(row.name for row in _ROWS if row.level == "session")

# Grouped by page, visit metrics describe the visits that landed on it (Plausible's top
# pages: bounce rate and visit duration of the page's entries), so the sessions part
# groups (and filters) by the visit's entry page where the events part uses the event's
# page; with the page, the event's hostname becomes the entry page's hostname.
ON_SESSIONS = {"event:page": "visit:entry_page", "event:hostname": "visit:entry_page_hostname"}


def is_session_only(name: str) -> bool:
    return name in SESSIONS_TABLE_ONLY


def is_fixed_per_visit(name: str) -> bool:
    """Whether a dimension is a visit attribute: the same on every event and every
    sessions row of a visit."""
    row = DIMENSIONS.get(name)
    return row is not None and row.level == "visit"


def on_sessions(name: str) -> str:
    """The dimension a sessions row is grouped by for `name` (itself for most)."""
    return ON_SESSIONS.get(name, name)


def column_expr(name: str, params: Params) -> str:
    """The SQL expression of a non-time, non-goal dimension over events rows."""
    if name.startswith(PROPS_PREFIX):
        key = params.add(name[len(PROPS_PREFIX) :], "String")
        return f"if(mapContains(props, {key}), props[{key}], '(none)')"
    return DIMENSIONS[name].column


def time_expr(bucket: str, timestamp: str, params: Params, first_day: str, tz: str) -> str:
    """A time bucket label (a String) of `timestamp` in the site's time zone.

    Weeks and months are clipped to the first day of the range, so the first bucket of a
    range that starts mid-week is labelled with that day, as the time labels are."""
    zone = params.add(tz, "String")
    if bucket == "time:minute":
        return f"formatDateTime(toStartOfMinute({timestamp}), '%Y-%m-%d %H:%i:00', {zone})"
    if bucket == "time:hour":
        return f"formatDateTime(toStartOfHour({timestamp}, {zone}), '%Y-%m-%d %H:00:00', {zone})"
    if bucket == "time:day":
        return f"toString(toDate({timestamp}, {zone}))"
    first = params.add(first_day, "Date")
    if bucket == "time:week":
        return f"toString(greatest(toMonday({timestamp}, {zone}), {first}))"
    return f"toString(greatest(toStartOfMonth({timestamp}, {zone}), {first}))"


@cache
def country_names() -> dict[str, str]:
    import pycountry

    return {c.alpha_2: getattr(c, "common_name", c.name) for c in pycountry.countries}


@cache
def region_names() -> dict[str, str]:
    import pycountry

    return {s.code: s.name for s in pycountry.subdivisions}


def label_table(kind: str) -> dict[str, str]:
    return country_names() if kind == "country" else region_names()


def relabel(name: str, value: str) -> str | int:
    """The value shown for a stored code (identity for most dimensions)."""
    row = DIMENSIONS.get(name)
    if row is None:
        return value
    if row.numeric:
        return int(value) if value.isdigit() else value
    if row.label is None:
        return value
    return label_table(row.label).get(value, value)
