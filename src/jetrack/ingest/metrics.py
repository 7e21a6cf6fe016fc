"""The ingest figures /metrics shows, read from the service at each scrape (the hot path
only bumps its own counters)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from jetrack.ingest.service import IngestService


class IngestCollector(Collector):
    """Reads the app's ingest service (None while the app is not running: nothing shown)."""

    def __init__(self, service: Callable[[], IngestService | None]) -> None:
        self.service = service

    def collect(self) -> Iterator[Metric]:
        service = self.service()
        if service is None:
            return
        sessions = service.pipeline.sessions
        events = CounterMetricFamily(
            "jetrack_events",
            "Events by outcome: accepted, or the reason the pipeline dropped it.",
            labels=["outcome"],
        )
        for outcome, count in sorted(service.pipeline.counts.items()):
            events.add_metric([outcome], count)
        yield events
        refused = CounterMetricFamily(
            "jetrack_event_requests_refused",
            "Event requests answered 4xx before the pipeline: bad_request (400, the answer "
            "names the field), too_large (413). Batches past their address's budget (429) "
            "are jetrack_batches_refused.",
            labels=["reason"],
        )
        for reason, count in sorted(service.refused.items()):
            refused.add_metric([reason], count)
        yield refused
        yield CounterMetricFamily(
            "jetrack_events_stored",
            "Events stored in the event store.",
            value=service.buffer.stored,
        )
        yield GaugeMetricFamily(
            "jetrack_write_buffer_pending",
            "Events journaled and not yet stored.",
            value=service.buffer.pending,
        )
        yield CounterMetricFamily(
            "jetrack_batches_refused",
            "POST /api/events batches refused (429) by the address budget.",
            value=service.batches_refused,
        )
        yield GaugeMetricFamily(
            "jetrack_live_visits", "Visits kept whole in memory.", value=len(sessions)
        )
        yield GaugeMetricFamily(
            "jetrack_packed_visits", "Visits kept packed in memory.", value=sessions.packed
        )
        yield CounterMetricFamily(
            "jetrack_visits_packed", "Visits packed to save memory.", value=sessions.packed_total
        )
        yield CounterMetricFamily(
            "jetrack_visits_forgotten",
            "Visits forgotten while under way (memory bound reached).",
            value=sessions.forgotten,
        )
