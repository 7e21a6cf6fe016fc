"""Gives back the memory an idle server holds: once the embedded event store has run no
statement for IDLE_SECONDS, and again only after it ran one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from jetrack.store.events import ChdbEventStore
from jetrack.store.memory import give_back_freed_memory

log = logging.getLogger("jetrack.memory")

IDLE_SECONDS = 20.0
CHECK_SECONDS = 5.0


def release_idle_memory(events: ChdbEventStore) -> None:
    give_back_freed_memory()
    events.release_memory()


async def _watch(events: ChdbEventStore) -> None:
    released_after: float | None = None  # the store's last use when memory was given back
    while True:
        await asyncio.sleep(CHECK_SECONDS)
        used = events.last_used
        log.debug("idle watch: %.1f s since the last statement", time.monotonic() - used)
        if used == released_after or time.monotonic() - used < IDLE_SECONDS:
            continue
        try:
            await run_in_threadpool(release_idle_memory, events)
        except Exception:  # never let the watch end: log and try after the next use
            log.exception("giving back idle memory failed")
        released_after = used
        log.debug("idle: memory given back")


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    events = app.state.stores.events
    if not isinstance(events, ChdbEventStore):  # a ClickHouse server: nothing held here
        yield
        return
    task = asyncio.create_task(_watch(events))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
