"""The steps the JSON APIs share: a JSON object from the request body, and a report
computed off the event loop with its failures answered as 4xx/503."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request

from jetrack.stats.errors import QueryError
from jetrack.store.events import QueryLimitExceeded

P = ParamSpec("P")
T = TypeVar("T")


async def json_object(
    request: Request, *, empty_is: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The body as a JSON object; 400 otherwise. An empty body is `empty_is` when given."""
    raw = await request.body()  # capped while it streams in (web/policy.py)
    if empty_is is not None and not raw.strip():
        return dict(empty_is)
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: [[[[... nested past the parser
        raise HTTPException(400, "the request body must be a JSON object") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "the request body must be a JSON object")
    return body


async def computed(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`work(...)` on the event store in a worker thread (ingestion shares the loop); a bad
    query is its 4xx, one over the time budget 503."""
    try:
        return await run_in_threadpool(work, *args, **kwargs)
    except QueryError as exc:
        raise HTTPException(exc.status, exc.message) from None
    except QueryLimitExceeded as exc:
        raise HTTPException(
            503, f"the query took too long; narrow the date range ({exc})"
        ) from None
