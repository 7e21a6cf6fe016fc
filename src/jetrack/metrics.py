"""The Prometheus metrics of one app: ingest, analytics queries and jobs, in a registry of
its own. Labels name kinds, outcomes and route templates only: never an address, a path
with an id in it, a domain or anything a visitor sent."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds: a flush is milliseconds, a dashboard query tens of ms to seconds, a job up to
# minutes (the rollups of a large site).
FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SLOW_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)


class Metrics:
    """What /metrics shows; collectors of counts kept elsewhere (the ingest pipeline's) are
    added with `add` and read at each scrape."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.flushes = Counter(
            "jetrack_buffer_flushes",
            "Write buffer batches stored in the event store (outcome: stored) or left in the "
            "journal for the next flush (failed).",
            ["outcome"],
            registry=self.registry,
        )
        self.flush_seconds = Histogram(
            "jetrack_buffer_flush_seconds",
            "Time to store one write buffer batch: its events and its visits.",
            buckets=FAST_BUCKETS,
            registry=self.registry,
        )
        self.query_seconds = Histogram(
            "jetrack_query_seconds",
            "Time to answer a request of an API that runs analytics queries, by API (method "
            "and route template) and status class (2xx, 4xx, 5xx); _count is the requests.",
            ["api", "status"],
            buckets=FAST_BUCKETS,
            registry=self.registry,
        )
        self.job_runs = Counter(
            "jetrack_job_runs",
            "Jobs run by the job runner, by kind and outcome (done, failed, stopped).",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.job_seconds = Histogram(
            "jetrack_job_seconds",
            "Time one job run took, by kind.",
            ["kind"],
            buckets=SLOW_BUCKETS,
            registry=self.registry,
        )

    def add(self, collector: Collector) -> None:
        self.registry.register(collector)

    def observe_query(self, api: str, status: int, seconds: float) -> None:
        self.query_seconds.labels(api, f"{status // 100}xx").observe(seconds)

    def observe_job(self, kind: str, outcome: str, seconds: float) -> None:
        self.job_runs.labels(kind, outcome).inc()
        self.job_seconds.labels(kind).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
