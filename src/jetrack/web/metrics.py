"""GET /metrics: the app's Prometheus metrics (jetrack/metrics.py). Only with
JETRACK_METRICS_TOKEN set, and then only for its bearer (web/policy_middleware.py checks it:
without a token the route answers 404 as if it did not exist)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from jetrack.metrics import CONTENT_TYPE, Metrics


async def metrics_page(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    return Response(await run_in_threadpool(metrics.exposition), media_type=CONTENT_TYPE)


routes: list[BaseRoute] = [Route("/metrics", metrics_page, methods=["GET"])]
