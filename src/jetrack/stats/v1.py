"""Stats API v1 (aggregate, timeseries, breakdown, realtime) answered by the v2 engine."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jetrack.stats import dates
from jetrack.stats.engine import run_query
from jetrack.stats.errors import QueryError
from jetrack.stats.query import SiteInfo
from jetrack.store.events import EventStore

PERIODS = ("day", "7d", "30d", "month", "6mo", "12mo", "custom")


# v1's periods, as Plausible's v1 reads them: the N days ending on `date` (today by
# default), today included; 6mo/12mo are that month and the 5/11 before it.
V1_DAYS = {"day": 1, "7d": 7, "30d": 30}
V1_MONTHS = {"month": 1, "6mo": 6, "12mo": 12}


def _date_range(params: Mapping[str, str], site: SiteInfo, now: datetime) -> list[str]:
    period = params.get("period", "30d")
    if period not in PERIODS:
        raise QueryError(f"period: {period!r} is not valid; use one of {', '.join(PERIODS)}")
    raw_date = params.get("date")
    if period == "custom":
        parts = (raw_date or "").split(",")
        if len(parts) != 2:
            raise QueryError("date: period=custom needs date=YYYY-MM-DD,YYYY-MM-DD")
        first, last = (dates.parse_day(part.strip(), "date") for part in parts)
        if last < first:
            raise QueryError(f"date: the first day {first} is after the last day {last}")
        return [first.isoformat(), last.isoformat()]
    today = dates.parse_day(raw_date, "date") if raw_date else dates.local_today(site.timezone, now)
    if period in V1_DAYS:
        first = today - timedelta(days=V1_DAYS[period] - 1)
        return [first.isoformat(), today.isoformat()]
    first = dates.month_start(today, V1_MONTHS[period] - 1)
    return [first.isoformat(), dates.month_end(today).isoformat()]


def _split(text: str, separator: str) -> list[str]:
    """Split on a separator not escaped with a backslash, then unescape."""
    parts = re.split(r"(?<!\\)" + re.escape(separator), text)
    return [p.replace("\\" + separator, separator) for p in parts]


def parse_filters(text: str | None) -> list[list[Any]]:
    """`visit:country==DE;event:page==/blog*` -> v2 filters. `|` is OR, `*` a wildcard."""
    out: list[list[Any]] = []
    for expression in _split(text or "", ";"):
        if not expression.strip():
            continue
        match = re.match(r"^\s*([\w:\-.]+)\s*(==|!=|~)\s*(.*)$", expression, re.S)
        if not match:
            raise QueryError(
                f"filters: {expression!r} is not a filter; write property==value, "
                "property!=value or property~value, joined with ;"
            )
        prop, op, value = match.groups()
        values = _split(value, "|")
        if op == "~":
            out.append(["contains", prop, values])
        elif any("*" in v for v in values) and prop != "event:goal":
            patterns = ["^" + ".*".join(map(re.escape, v.split("*"))) + "$" for v in values]
            out.append(["matches" if op == "==" else "matches_not", prop, patterns])
        else:
            out.append(["is" if op == "==" else "is_not", prop, values])
    return out


def _metrics(params: Mapping[str, str]) -> list[str]:
    return [m.strip() for m in params.get("metrics", "visitors").split(",") if m.strip()]


def _base(params: Mapping[str, str], site: SiteInfo, now: datetime) -> dict[str, Any]:
    with_imported = params.get("with_imported", "false")
    if with_imported not in ("true", "false"):
        raise QueryError("with_imported: true or false")
    return {
        "site_id": site.domain,
        "metrics": _metrics(params),
        "date_range": _date_range(params, site, now),
        "filters": parse_filters(params.get("filters")),
        # v1's with_imported is v2's include.imports (docs/imports.md)
        "include": {"imports": with_imported == "true"},
    }


def aggregate(
    events: EventStore, site: SiteInfo, params: Mapping[str, str], now: datetime | None = None
) -> dict[str, Any]:
    moment = now or datetime.now(UTC)
    request = _base(params, site, moment)
    compare = params.get("compare")
    if compare:
        if compare != "previous_period":
            raise QueryError("compare: only previous_period is supported")
        request["include"]["comparisons"] = {"mode": "previous_period"}
    answer = run_query(events, site, request, now=moment)
    row = answer["results"][0]
    results: dict[str, Any] = {}
    for index, metric in enumerate(request["metrics"]):
        entry: dict[str, Any] = {"value": row["metrics"][index]}
        if "comparison" in row:
            entry["comparison_value"] = row["comparison"]["metrics"][index]
            entry["change"] = row["comparison"]["change"][index]
        results[metric] = entry
    return {"results": results}


def timeseries(
    events: EventStore, site: SiteInfo, params: Mapping[str, str], now: datetime | None = None
) -> dict[str, Any]:
    moment = now or datetime.now(UTC)
    request = _base(params, site, moment)
    interval = params.get("interval")
    if interval in (None, ""):
        interval = "month" if params.get("period") in ("6mo", "12mo") else "date"
    buckets = {"date": "time:day", "day": "time:day", "month": "time:month", "hour": "time:hour"}
    if interval not in buckets:
        raise QueryError("interval: use date, month or hour")
    request["dimensions"] = [buckets[interval]]
    request["include"]["time_labels"] = True
    answer = run_query(events, site, request, now=moment)
    by_label = {r["dimensions"][0]: r["metrics"] for r in answer["results"]}
    zeros = [0 for _ in request["metrics"]]
    return {
        "results": [
            {
                "date": label,
                **dict(zip(request["metrics"], by_label.get(label, zeros), strict=True)),
            }
            for label in answer["meta"]["time_labels"]
        ]
    }


def breakdown(
    events: EventStore, site: SiteInfo, params: Mapping[str, str], now: datetime | None = None
) -> dict[str, Any]:
    moment = now or datetime.now(UTC)
    request = _base(params, site, moment)
    prop = params.get("property")
    if not prop:
        raise QueryError("property: required, e.g. visit:source or event:page")
    try:
        limit = int(params.get("limit", "100"))
        page = int(params.get("page", "1"))
    except ValueError:
        raise QueryError("limit and page: must be whole numbers") from None
    if not 1 <= limit <= 1000 or page < 1:
        raise QueryError("limit: 1 to 1000; page: 1 or more")
    request["dimensions"] = [prop]
    request["pagination"] = {"limit": limit, "offset": (page - 1) * limit}
    answer = run_query(events, site, request, now=moment)
    key = prop.split(":")[-1]
    return {
        "results": [
            {key: r["dimensions"][0], **dict(zip(request["metrics"], r["metrics"], strict=True))}
            for r in answer["results"]
        ]
    }


def realtime_visitors(events: EventStore, site: SiteInfo, now: datetime | None = None) -> int:
    """Visitors with an event in the last 5 minutes."""
    moment = (now or datetime.now(UTC)).astimezone(ZoneInfo(site.timezone))
    request = {
        "site_id": site.domain,
        "metrics": ["visitors"],
        "date_range": [
            (moment - timedelta(minutes=5)).replace(microsecond=0).isoformat(),
            moment.replace(microsecond=0).isoformat(),
        ],
    }
    answer = run_query(events, site, request, now=moment)
    return int(answer["results"][0]["metrics"][0])
