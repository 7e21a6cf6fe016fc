"""The ingest service: builds the pipeline and write buffer, and runs their background work."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from jetrack.config import Settings
from jetrack.enrich import GeoLookup, warm_up
from jetrack.enrich.geo import CITY_DATABASE_FILES
from jetrack.ingest.budgets import AddressBudget
from jetrack.ingest.buffer import WriteBuffer
from jetrack.ingest.client_ip import Networks, parse_networks
from jetrack.ingest.journal import Journal
from jetrack.ingest.pipeline import SHARED_STEPS, Pipeline
from jetrack.ingest.sessions import SessionTable
from jetrack.ingest.shared_visits import VisitBatcher, open_shared_visits
from jetrack.ingest.site_cache import SiteCache
from jetrack.metrics import Metrics
from jetrack.store.salts import SaltRing, seconds_to_midnight
from jetrack.store.stores import Stores

log = logging.getLogger("jetrack.ingest")

SITE_REFRESH_SECONDS = 10.0
HOUSEKEEPING_SECONDS = 30.0


@dataclass
class IngestService:
    pipeline: Pipeline
    buffer: WriteBuffer
    salts: SaltRing
    trusted_proxies: Networks
    batch_budget: AddressBudget  # events of POST /api/events per address and minute
    shared_visits: VisitBatcher | None = None  # shared mode: the visits in Redis
    batches_refused: int = 0  # answered 429 by that budget
    # Requests answered 4xx before the pipeline, by reason (bad_request, too_large).
    refused: Counter[str] = field(default_factory=Counter)
    _last_miss_refresh: float = 0.0

    def miss_refresh_due(self) -> bool:
        """An unknown domain may be a site added seconds ago: the site cache may be read
        again for it at most once a second. True (and the clock reset) when it may now."""
        now = time.monotonic()
        if now - self._last_miss_refresh < 1.0:
            return False
        self._last_miss_refresh = now
        return True


def open_geo(settings: Settings) -> GeoLookup:
    present = [
        settings.geo_dir / name
        for name in CITY_DATABASE_FILES
        if (settings.geo_dir / name).is_file()
    ]
    if not present:
        log.warning(
            "no city database in %s: countries only (run `make geo` for regions and cities)",
            settings.geo_dir,
        )
    return GeoLookup(present)


def open_journal(stores: Stores) -> Journal:
    """The data dir's journal, encrypted with the stores' journal key (if any)."""
    key = stores.keys.journal if stores.keys else None
    return Journal(stores.settings.data_dir / "journal", key)


def replay_journal(stores: Stores) -> int:
    """Store what earlier runs journaled but did not store, with no server running (the
    write buffer's own replay, as at server start; closing it removes the empty segment it
    opened). Call it from a thread without an event loop."""
    buffer = WriteBuffer(open_journal(stores), stores.events, interval=1.0, max_events=1)
    replayed = buffer.replay()
    asyncio.run(buffer.close())
    return replayed


def unstored_segments(stores: Stores) -> set[str]:
    """The names of the journal's segments holding rows not yet stored (the write buffer
    deletes them once stored; an empty one is the segment being written, or nothing).
    Names, not paths: a segment is renamed `.storing` and `.stored` on its way."""
    return {path.stem for path in open_journal(stores).leftover_segments() if _has_rows(path)}


def _has_rows(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except FileNotFoundError:
        return False


def build_service(
    settings: Settings, stores: Stores, metrics: Metrics | None = None
) -> IngestService:
    warm_up()
    sites = SiteCache(stores.control)
    sites.refresh()
    salts = SaltRing(stores.control)
    timeout = settings.session_timeout_minutes * 60
    shared = (
        open_shared_visits(settings.redis_url, timeout, settings.redis_prefix)
        if settings.redis_url is not None
        else None
    )
    geo = open_geo(settings)
    geo.warm_up()
    pipeline = Pipeline(
        sites,
        geo,
        SessionTable(timeout, settings.max_live_visits),  # empty in shared mode
        salts,
        steps=SHARED_STEPS if shared is not None else None,
        new_visitors=AddressBudget(settings.new_visitors_per_minute),
    )
    buffer = WriteBuffer(
        open_journal(stores),
        stores.events,
        interval=settings.flush_interval_seconds,
        max_events=settings.flush_max_events,
        metrics=metrics,
    )
    buffer.replay()
    return IngestService(
        pipeline,
        buffer,
        salts,
        parse_networks(tuple(settings.trusted_proxies)),
        AddressBudget(settings.batch_events_per_minute),
        shared,
    )


async def _repeat(delay: Callable[[], float], work: Callable[[], Awaitable[None]]) -> None:
    while True:
        await asyncio.sleep(delay())
        try:
            await work()
        except Exception as exc:  # keep the loop alive; the next round retries
            log.error("background work failed: %s", type(exc).__name__)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    stores: Stores = app.state.stores
    metrics: Metrics = app.state.metrics
    service = await run_in_threadpool(build_service, settings, stores, metrics)
    app.state.ingest = service

    async def refresh_sites() -> None:
        await run_in_threadpool(service.pipeline.sites.refresh)

    async def housekeeping() -> None:
        await run_in_threadpool(service.salts.rotate)
        service.pipeline.sessions.sweep(time.time())

    tasks = [
        asyncio.create_task(service.buffer.run()),
        asyncio.create_task(_repeat(lambda: SITE_REFRESH_SECONDS, refresh_sites)),
        # Wake at 00:00 UTC too, so the new day's salt is in use from its first second.
        asyncio.create_task(
            _repeat(lambda: min(HOUSEKEEPING_SECONDS, seconds_to_midnight() + 0.01), housekeeping)
        ),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await service.buffer.close()
        if service.shared_visits is not None:
            service.shared_visits.close()
        log.info("write buffer flushed: %d events stored this run", service.buffer.stored)
