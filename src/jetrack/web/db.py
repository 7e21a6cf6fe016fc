"""Run a control-store unit of work from an async handler, off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from jetrack.store.stores import Stores

P = ParamSpec("P")
T = TypeVar("T")


async def in_session(
    request: Request,
    work: Callable[Concatenate[Session, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """`work(session, ...)` in a worker thread, committed when it returns (rolled back on
    an exception). Objects it returns stay readable: sessions do not expire on commit."""
    stores: Stores = request.app.state.stores

    def run() -> T:
        with stores.control.session() as session:
            return work(session, *args, **kwargs)

    return await run_in_threadpool(run)
