"""Metrics as a table: how each is computed on each part of a query, and its JSON type.

Parts (see jetrack.stats.plan): `events` aggregates event rows (engagement pings
excluded); `sessions` aggregates rows of the sessions table (one per visit, its whole
visit's totals; `matched_pageviews`/`matched_events` are its events in the range when
the part joins them); `engagement` aggregates one row per (visit, group) of engagement
pings. `derived` metrics are computed from other columns in the outer SELECT."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    name: str
    json_type: type
    description: str
    events: str | None = None
    sessions: str | None = None
    engagement: str | None = None
    # Over partial sums of visits (`sessions` part on daily rollups): v visitors, n visits,
    # b bounces, pv pageviews, du seconds of duration (jetrack.stats.sql, ROLLUP_PARTIALS).
    rollup: str | None = None


def _safe_ratio(numerator: str, denominator: str, scale: str, digits: int) -> str:
    return f"if({denominator} = 0, 0, round({scale}{numerator} / {denominator}, {digits}))"


METRICS = {
    m.name: m
    for m in [
        Metric(
            "visitors",
            int,
            "unique visitors over the whole range",
            events="uniq(visitor_id)",
            sessions="uniq(visitor_id)",
            rollup="sum(v)",
        ),
        Metric(
            "visits", int, "visits", events="uniq(session_id)", sessions="count()", rollup="sum(n)"
        ),
        Metric(
            "pageviews",
            int,
            "pageview events",
            events="countIf(name = 'pageview')",
            sessions="sum(matched_pageviews)",  # only grouped by exit page
        ),
        Metric(
            "events",
            int,
            "pageviews and custom events",
            events="count()",
            sessions="sum(matched_events)",
        ),
        Metric(
            "bounce_rate",
            int,
            "percent of visits with one pageview and no interactive custom event",
            sessions=_safe_ratio("sum(is_bounce)", "count()", "100 * ", 0),
            rollup=_safe_ratio("sum(b)", "sum(n)", "100 * ", 0),
        ),
        Metric(
            "visit_duration",
            int,
            "average seconds from the first to the last event of a visit",
            sessions="if(count() = 0, 0, round(avg(duration)))",
            rollup="if(sum(n) = 0, 0, round(sum(du) / sum(n)))",
        ),
        Metric(
            "views_per_visit",
            float,
            "pageviews per visit",
            sessions=_safe_ratio("sum(pageviews)", "count()", "", 2),
            rollup=_safe_ratio("sum(pv)", "sum(n)", "", 2),
        ),
        Metric(
            "time_on_page",
            int,
            "average engaged seconds per visit on the page",
            engagement="if(count() = 0, 0, round(sum(engaged_ms) / 1000 / count()))",
        ),
        Metric(
            "scroll_depth",
            int,
            "average of each visit's deepest scroll on the page",
            engagement="if(count() = 0, 0, round(avg(deepest_scroll)))",
        ),
        Metric("percentage", float, "share of all visitors, percent"),
        Metric("conversion_rate", float, "percent of all visitors who converted"),
        Metric(
            "group_conversion_rate",
            float,
            "percent of the visitors of the same dimension values who converted",
        ),
        Metric("exit_rate", float, "percent of the exit page's pageviews that ended their visit"),
        # Revenue is summed on events rows by jetrack.stats.revenue (its SQL depends on the
        # goals and exchange rates); the answer shows it as money (jetrack.stats.results).
        Metric("total_revenue", float, "revenue of the revenue goals' conversions"),
        Metric("average_revenue", float, "revenue per revenue goal conversion with revenue"),
    ]
}

SESSION_ONLY = ("bounce_rate", "visit_duration", "views_per_visit")
# Visit metrics that event:page may group, by the page the visits entered on
# (jetrack.stats.dimensions.ON_SESSIONS); views_per_visit of a page has no such meaning.
BY_ENTRY_PAGE = ("bounce_rate", "visit_duration")
ENGAGEMENT_ONLY = ("time_on_page", "scroll_depth")
DERIVED = ("percentage", "conversion_rate", "group_conversion_rate", "exit_rate")
CONVERSION_RATES = ("conversion_rate", "group_conversion_rate")
REVENUE = ("total_revenue", "average_revenue")
# Event counts: from the sessions part only by joining each visit's events in the range.
COUNTED_IN_RANGE = ("pageviews", "events")


def derived_sql(name: str, part_column: str, total: str) -> str:
    """A percentage of `total`: visitors for most, pageviews of the page for exit_rate."""
    digits = 1 if name in ("percentage", "exit_rate") else 2
    return _safe_ratio(part_column, total, "100 * ", digits)


def as_json(name: str, value: object) -> int | float:
    if value is None or value != value:  # NULL or NaN
        value = 0
    if METRICS[name].json_type is int:
        return round(float(value))  # type: ignore[arg-type]
    if name in REVENUE:
        return round(float(value), 3)  # type: ignore[arg-type]
    return float(value)  # type: ignore[arg-type]
