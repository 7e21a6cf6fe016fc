"""GET /metrics after real requests: ingest outcomes and refusals, write buffer flushes,
analytics queries by API, job runs; nothing of a visitor, a site or a path in it."""

from __future__ import annotations

import re
import time
from pathlib import Path

import orjson
import pytest
from starlette.testclient import TestClient

from jetrack.app import create_app
from jetrack.store.stores import open_stores
from tests.conftest import METRICS_AUTH, make_settings, seed_site

pytestmark = pytest.mark.slow

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
VISITOR = "203.0.113.77"


def _value(text: str, sample: str) -> float:
    """The value of one sample line (`name{labels}`), 0 when absent."""
    found = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def test_metrics_count_ingest_queries_and_jobs(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", flush_interval_seconds=0.05)
    stores = open_stores(settings)
    seed = seed_site("metrics.example")
    seed(stores)
    app = create_app(settings, stores)
    try:
        with TestClient(app, client=(VISITOR, 1), headers={"User-Agent": CHROME}) as client:
            event = {
                "n": "pageview",
                "u": "https://metrics.example/account/12345",
                "d": "metrics.example",
            }
            for _ in range(3):
                assert client.post("/api/event", content=orjson.dumps(event)).status_code == 202
            bot = client.post(
                "/api/event", content=orjson.dumps(event), headers={"User-Agent": "curl/8.0"}
            )
            assert bot.headers["x-jetrack-dropped"] == "bot_ua"
            assert client.post("/api/event", content=b"{not json").status_code == 400

            bearer = {"Authorization": f"Bearer {seed.key}"}
            query = {"site_id": "metrics.example", "metrics": ["visitors"], "date_range": "day"}
            deadline = time.monotonic() + 20
            text = ""
            while time.monotonic() < deadline:
                text = client.get("/metrics", headers=METRICS_AUTH).text
                flushed = _value(text, 'jetrack_buffer_flushes_total{outcome="stored"}')
                jobs = re.search(
                    r'^jetrack_job_runs_total\{kind="rollups",outcome="done"\}', text, re.M
                )
                if flushed and jobs:
                    break
                time.sleep(0.05)
            ok = client.post("/api/v2/query", json=query, headers=bearer)
            assert ok.status_code == 200 and ok.json()["results"][0]["metrics"] == [1]
            bad = client.post("/api/v2/query", json={**query, "metrics": ["nope"]}, headers=bearer)
            assert bad.status_code == 400
            assert (
                client.get(
                    "/api/v1/stats/aggregate?site_id=metrics.example", headers=bearer
                ).status_code
                == 200
            )
            text = client.get("/metrics", headers=METRICS_AUTH).text
            unauthorized = client.get("/metrics")
    finally:
        stores.close()

    assert unauthorized.status_code == 401
    assert _value(text, 'jetrack_events_total{outcome="accepted"}') == 3
    assert _value(text, 'jetrack_events_total{outcome="bot_ua"}') == 1
    assert _value(text, 'jetrack_event_requests_refused_total{reason="bad_request"}') == 1
    assert _value(text, "jetrack_events_stored_total") == 3
    assert _value(text, 'jetrack_buffer_flushes_total{outcome="stored"}') >= 1
    assert _value(text, "jetrack_buffer_flush_seconds_count") >= 1
    v2 = 'api="POST /api/v2/query"'
    assert _value(text, f'jetrack_query_seconds_count{{{v2},status="2xx"}}') == 1
    assert _value(text, f'jetrack_query_seconds_count{{{v2},status="4xx"}}') == 1
    assert _value(text, f'jetrack_query_seconds_bucket{{{v2},le="+Inf",status="2xx"}}') == 1
    v1 = 'api="GET /api/v1/stats/aggregate",status="2xx"'
    assert _value(text, f"jetrack_query_seconds_count{{{v1}}}") == 1
    for kind in ("rollups", "retention", "purge"):
        assert _value(text, f'jetrack_job_runs_total{{kind="{kind}",outcome="done"}}') == 1
        assert _value(text, f'jetrack_job_seconds_count{{kind="{kind}"}}') == 1
    # Labels name kinds, outcomes and route templates only.
    for secret in (VISITOR, "metrics.example", "12345", seed.key, "nope"):
        assert secret not in text
