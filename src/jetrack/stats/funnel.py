"""Funnels: how many visitors completed each step of a funnel, in order, within one visit.

A query kind of its own (the rollups hold no order of events, so it always reads the
events table), with the date range and filters of a Stats API query: they are parsed,
optimized and checked by the engine (`engine.prepare`) and become the same WHERE pieces
(`sql.row_conditions`), so a filter means the same visits here as in every other report.

Counting (docs/funnels.md): the events of each visit in the range that passes the filters
go through ClickHouse's `windowFunnel` with one condition per step (the goals' own
conditions, `filters.goal_match_sql`), giving the furthest step the visit reached in
order; other events may come between steps; events of another visit never continue a
funnel. A visitor counts at the furthest step any of their visits reached.

Only the events of a step go through it (windowFunnel passes over the others). The
visitors who reached no step are the others of the query's visitors, which the engine
answers as the dashboard's top stats do (from the rollups where it can).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jetrack.stats.engine import execute, fetch, prepare
from jetrack.stats.errors import QueryError
from jetrack.stats.filters import goal_match_sql
from jetrack.stats.params import Params
from jetrack.stats.query import GoalInfo, Query, SiteInfo
from jetrack.stats.results import echo
from jetrack.stats.schema import validate_request
from jetrack.stats.sql import Statement, row_conditions
from jetrack.store.events import EventStore
from jetrack.store.rollups import VISIT_SPAN

FIELDS = ("site_id", "funnel_id", "date_range", "filters")
# windowFunnel's window: longer than any visit, so the visit is the only bound.
WINDOW_SECONDS = int(VISIT_SPAN.total_seconds())


@dataclass(frozen=True, slots=True)
class FunnelInfo:
    """A funnel as the engine needs it: its id, name and the display names of its steps'
    goals, in order (each one of the site's goals)."""

    id: int
    name: str
    steps: tuple[str, ...]

    @classmethod
    def from_funnel(cls, funnel: Any) -> FunnelInfo:
        """From a `jetrack.store.models.Funnel` whose steps and goals can be loaded."""
        return cls(funnel.id, funnel.name, tuple(s.goal.display_name for s in funnel.steps))


def funnel_id_of(request: Any) -> int:
    """The `funnel_id` of a funnel request; QueryError naming what is wrong."""
    if not isinstance(request, dict):
        raise QueryError("the request body must be a JSON object")
    unknown = sorted(set(request) - set(FIELDS))
    if unknown:
        raise QueryError(
            f"{unknown[0]}: not a field of a funnel request; it takes {', '.join(FIELDS)}"
        )
    funnel_id = request.get("funnel_id")
    if isinstance(funnel_id, bool) or not isinstance(funnel_id, int) or not 0 < funnel_id < 2**31:
        raise QueryError(
            "funnel_id: required, the id of one of the site's funnels (GET /api/v2/funnels)"
        )
    return funnel_id


def stats_request(request: dict[str, Any]) -> dict[str, Any]:
    """The Stats API query whose date range and filters the funnel takes."""
    query = {"site_id": request.get("site_id"), "metrics": ["visitors"]}
    if "date_range" not in request:
        raise QueryError('date_range: required, e.g. "30d" or ["2024-01-01", "2024-01-31"]')
    query["date_range"] = request["date_range"]
    if "filters" in request:
        query["filters"] = request["filters"]
    return query


def steps_of(funnel: FunnelInfo, site: SiteInfo) -> tuple[GoalInfo, ...]:
    goals = {goal.display_name: goal for goal in site.goals}
    missing = [name for name in funnel.steps if name not in goals]
    if missing:  # a goal renamed or deleted since the funnel was read: a stale read
        raise QueryError(f"funnel_id: the goal {missing[0]!r} of this funnel is gone", 409)
    return tuple(goals[name] for name in funnel.steps)


def statement(query: Query, steps: tuple[GoalInfo, ...]) -> Statement:
    """Visitors by the furthest step reached, as rows (level, visitors), of those who
    reached one."""
    params = Params()
    rows = row_conditions(query, params)
    in_range = f"{rows.base_where()} AND name != 'engagement'"
    on_visits, on_events = rows.visit_trees, rows.event_trees
    # Visit filters hold for every event of the visit (its attributes are on each row);
    # event filters keep the visits with a matching event in the range, whole.
    # The steps' events from events_by_page when it holds what they and the filters read:
    # a step's page or event name is a range of its rows (a row written twice changes no
    # funnel level); the visit filters then pass the visit's sessions row.
    table = "events"
    where = f"{in_range} AND {rows.row_filter(on_visits)}"
    if not any(goal.custom_props for goal in steps) and rows.finds_by_page():
        table, where = "events_by_page", in_range
    if on_events:
        where += (
            f" AND session_id IN (SELECT session_id FROM {rows.matching(*on_events)}"
            f" WHERE {in_range} AND {rows.row_filter(on_events)})"
        )
    where += rows.visits_passing() if table == "events_by_page" else rows.exit_page_clause()
    matches = [goal_match_sql(goal, params) for goal in steps]
    visits = (
        f"SELECT any(visitor_id) AS visitor_id,"
        f" windowFunnel({WINDOW_SECONDS})(timestamp, {', '.join(matches)}) AS level"
        f" FROM {table} WHERE {where} AND ({' OR '.join(matches)}) GROUP BY session_id"
    )
    visitors = f"SELECT visitor_id, max(level) AS level FROM ({visits}) GROUP BY visitor_id"
    sql = f"SELECT level, count() FROM ({visitors}) WHERE level > 0 GROUP BY level ORDER BY level"
    return Statement(sql, params.values, 1, ["visitors"])


def percent(part: int, whole: int) -> float:
    return round(part / whole * 100, 2) if whole else 0.0


def shape(funnel: FunnelInfo, levels: dict[int, int], query: Query) -> dict[str, Any]:
    """The answer from visitors by furthest step (`levels`; 0: entered no step)."""
    everyone = sum(levels.values())
    reached = [
        sum(n for level, n in levels.items() if level >= step)
        for step in range(1, len(funnel.steps) + 1)
    ]
    entering = reached[0]
    steps = []
    for index, label in enumerate(funnel.steps):
        visitors = reached[index]
        previous = reached[index - 1] if index else entering
        steps.append(
            {
                "label": label,
                "visitors": visitors,
                "dropoff": previous - visitors,
                "dropoff_percentage": percent(previous - visitors, previous),
                "conversion_rate": percent(visitors, entering),
                "conversion_rate_step": percent(visitors, previous),
            }
        )
    executed = echo(query)
    return {
        "id": funnel.id,
        "name": funnel.name,
        "steps": steps,
        "all_visitors": everyone,
        "entering_visitors": entering,
        "entering_visitors_percentage": percent(entering, everyone),
        "never_entering_visitors": everyone - entering,
        "never_entering_visitors_percentage": percent(everyone - entering, everyone),
        "completed_visitors": reached[-1],
        "conversion_rate": percent(reached[-1], entering),
        "query": {
            "site_id": executed["site_id"],
            "funnel_id": funnel.id,
            "date_range": executed["date_range"],
            "filters": executed["filters"],
        },
    }


def run_funnel(
    events: EventStore,
    site: Any,
    funnel: FunnelInfo,
    request: dict[str, Any],
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Answer a funnel request (`funnel_id_of` passed) for `site` (a Site row or SiteInfo).

    Raises QueryError naming the bad field, as the Stats API does."""
    info = SiteInfo.from_site(site)
    query_request = stats_request(request)
    validate_request(query_request)
    query = prepare(events, info, query_request, now=now)
    _columns, rows = execute(events, statement(query, steps_of(funnel, info)))
    levels = {int(level): int(count) for level, count in rows}
    everyone = fetch(events, query).rows
    visitors = int(everyone[0].metrics[0]) if everyone else 0
    # The engine's visitors are uniq's above ~65,000 (as on the dashboard): never fewer
    # than those counted exactly at a step.
    levels[0] = max(visitors - sum(levels.values()), 0)
    return shape(funnel, levels, query)
