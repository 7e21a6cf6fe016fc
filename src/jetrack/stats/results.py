"""Shape rows into the Stats API v2 response: results, meta and the executed query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jetrack.stats.dates import time_labels
from jetrack.stats.dimensions import relabel
from jetrack.stats.metrics import REVENUE
from jetrack.stats.query import (
    Behaviour,
    Condition,
    Connective,
    DateRange,
    Filter,
    Negation,
    Query,
)
from jetrack.stats.revenue import WARNINGS, RevenuePlan, money

# Rates whose change is a difference in percentage points, not a relative change.
POINT_CHANGE = ("bounce_rate", "percentage", "conversion_rate", "group_conversion_rate",
                "exit_rate")  # fmt: skip


@dataclass(frozen=True)
class Row:
    dimensions: tuple[str, ...]  # as stored (codes, not labels)
    metrics: list[int | float]


def change(metric: str, now: int | float, before: int | float) -> int | float:
    if metric in POINT_CHANGE:
        return round(now - before, 2)
    if before == 0:
        return 100 if now > 0 else 0
    return round((now - before) / before * 100)


def _with_money(
    query: Query, plan: RevenuePlan | None, dims: tuple[str, ...], metrics: list[int | float]
) -> list[Any]:
    """Revenue metrics as money objects, or null where they cannot be summed (no revenue
    goal, several currencies, a row of a goal without a currency)."""
    if not any(m in REVENUE for m in query.metrics):
        return list(metrics)
    out: list[Any] = list(metrics)
    for index, name in enumerate(query.metrics):
        if name not in REVENUE:
            continue
        currency = None
        if plan is not None and not plan.warning:
            if plan.by_goal:
                currency = plan.currency_of(dims[query.dimensions.index("event:goal")])
            else:
                currency = plan.currency
        out[index] = money(float(metrics[index]), currency) if currency else None
    return out


def _revenue_meta(query: Query, plan: RevenuePlan | None, meta: dict[str, Any]) -> None:
    if plan is None:
        return
    if plan.warning:
        warning = {"code": plan.warning, "warning": WARNINGS[plan.warning]}
        meta["metric_warnings"] = {m: warning for m in query.metrics if m in REVENUE}
    elif query.rates is not None:
        meta["exchange_rates"] = {
            "date": query.rates.day.isoformat(),
            "base": query.rates.base,
            "source": query.rates.source,
        }


def shape(
    query: Query,
    rows: list[Row],
    total_rows: int,
    comparison: list[Row] | None,
    revenue: RevenuePlan | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    _revenue_meta(query, revenue, meta)
    bucket = query.time_dimension
    labels = time_labels(query.date_range, bucket) if bucket else []
    if query.time_labels:
        meta["time_labels"] = labels
    if query.total_rows:
        meta["total_rows"] = total_rows
    matched: dict[tuple[str, ...], Row] = {}
    previous_labels: list[str] = []
    if comparison is not None:
        previous_labels = (
            time_labels(query.comparison.date_range, bucket) if bucket and query.comparison else []
        )
        if query.time_labels:
            meta["comparison_time_labels"] = previous_labels
        matched = {
            _aligned_key(query, r.dimensions, previous_labels, labels): r for r in comparison
        }
    results = []
    for row in rows:
        item: dict[str, Any] = {
            "dimensions": [
                relabel(d, v) for d, v in zip(query.dimensions, row.dimensions, strict=True)
            ],
            "metrics": _with_money(query, revenue, row.dimensions, row.metrics),
        }
        if comparison is not None:
            before = matched.get(row.dimensions)
            dims = (
                before.dimensions
                if before
                else _previous_dims(query, row.dimensions, labels, previous_labels)
            )
            values: list[int | float] = before.metrics if before else [0 for _ in row.metrics]
            item["comparison"] = {
                "dimensions": [relabel(d, v) for d, v in zip(query.dimensions, dims, strict=True)],
                "metrics": _with_money(query, revenue, dims, values),
                "change": [
                    None if cell is None else change(m, now, was)
                    for m, now, was, cell in zip(
                        query.metrics, row.metrics, values, item["metrics"], strict=True
                    )
                ],
            }
        results.append(item)
    return {"results": results, "meta": meta, "query": echo(query)}


def _time_index(query: Query) -> int | None:
    bucket = query.time_dimension
    return query.dimensions.index(bucket) if bucket else None


def _aligned_key(
    query: Query, dims: tuple[str, ...], previous_labels: list[str], labels: list[str]
) -> tuple[str, ...]:
    """A comparison row's key in the main period: the time label at the same position."""
    index = _time_index(query)
    if index is None or dims[index] not in previous_labels:
        return dims
    position = previous_labels.index(dims[index])
    if position >= len(labels):
        return dims
    return (*dims[:index], labels[position], *dims[index + 1 :])


def _previous_dims(
    query: Query, dims: tuple[str, ...], labels: list[str], previous_labels: list[str]
) -> tuple[str, ...]:
    index = _time_index(query)
    if index is None or dims[index] not in labels:
        return dims
    position = labels.index(dims[index])
    label = previous_labels[position] if position < len(previous_labels) else dims[index]
    return (*dims[:index], label, *dims[index + 1 :])


def _iso_bounds(span: DateRange) -> list[str]:
    zone = ZoneInfo(span.timezone)
    return [
        span.start.astimezone(zone).isoformat(),
        (span.end - timedelta(seconds=1)).astimezone(zone).isoformat(),
    ]


def _filter_json(tree: Filter) -> list[Any]:
    if isinstance(tree, Condition):
        out: list[Any] = [tree.operator, tree.dimension, list(tree.clauses)]
        if not tree.case_sensitive:
            out.append({"case_sensitive": False})
        return out
    if isinstance(tree, Negation):
        return ["not", _filter_json(tree.child)]
    if isinstance(tree, Behaviour):
        return [tree.operator, _filter_json(tree.child)]
    assert isinstance(tree, Connective)
    return [tree.operator, [_filter_json(child) for child in tree.children]]


def echo(query: Query) -> dict[str, Any]:
    """The query as executed (after the optimizer), in request shape."""
    out: dict[str, Any] = {
        "site_id": query.echo.get("site_id"),
        "metrics": list(query.metrics),
        "date_range": _iso_bounds(query.date_range),
        "dimensions": list(query.dimensions),
        "filters": [_filter_json(f) for f in query.filters],
        "order_by": [list(entry) for entry in query.order_by],
        "include": query.echo.get("include", {}),
        "pagination": {"limit": query.limit, "offset": query.offset},
    }
    if query.comparison is not None:
        out["comparison_date_range"] = _iso_bounds(query.comparison.date_range)
    return out
