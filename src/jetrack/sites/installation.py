"""Installation check: has any event arrived for the site?"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from jetrack.store.events import EventStoreError, first_value
from jetrack.store.models import Site
from jetrack.store.stores import Stores


async def events_received(stores: Stores, site: Site) -> int | None:
    """How many events the site has sent; None when the event store cannot answer."""

    def count() -> int:
        result = stores.events.query(
            "SELECT count() FROM events WHERE site_id = {id:UInt32}", {"id": site.id}
        )
        return int(first_value(result, 0))

    try:
        return await run_in_threadpool(count)
    except EventStoreError:
        return None
