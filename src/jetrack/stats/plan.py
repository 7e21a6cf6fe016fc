"""Choose tables: which part of the SQL (events, sessions, engagement) computes each metric.

One pass is preferred: a query without time or event dimensions that needs any visit-level
metric computes everything from the sessions part, so visitors and visits agree. With a
time dimension, event counts are bucketed by event time and visits by when they started
(clipped to the range), so every visit is counted in exactly one bucket."""

from __future__ import annotations

from dataclasses import dataclass

from jetrack.stats.metrics import DERIVED, ENGAGEMENT_ONLY, SESSION_ONLY
from jetrack.stats.query import Query

PARTS = ("events", "sessions", "engagement")


@dataclass(frozen=True)
class Plan:
    provider: dict[str, str]  # metric name -> part

    def metrics_of(self, part: str) -> list[str]:
        return [m for m, p in self.provider.items() if p == part]

    @property
    def parts(self) -> list[str]:
        return [p for p in PARTS if p in self.provider.values()]


def choose(query: Query) -> Plan:
    metrics = list(query.metrics)
    if any(m in DERIVED for m in metrics) and "visitors" not in metrics:
        metrics.append("visitors")
    has_time = query.time_dimension is not None
    exit_page = "visit:exit_page" in query.dimensions
    needs_sessions = (
        exit_page
        or any(m in SESSION_ONLY for m in metrics)
        or (has_time and "visits" in metrics and not query.has_event_dimension)
    )
    everything_from_sessions = exit_page or (needs_sessions and not has_time)
    provider: dict[str, str] = {}
    for metric in metrics:
        if metric in DERIVED:
            continue
        if metric in ENGAGEMENT_ONLY:
            provider[metric] = "engagement"
        elif (
            metric in SESSION_ONLY
            or everything_from_sessions
            or (metric == "visits" and needs_sessions)
        ):
            provider[metric] = "sessions"
        else:
            provider[metric] = "events"
    return Plan(provider)
