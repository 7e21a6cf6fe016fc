"""The OpenAPI document of the public APIs: served, built from the schemas the server
validates with, in step with the routes, and fuzzed by schemathesis without a 5xx."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from starlette.routing import Route
from starlette.testclient import TestClient

from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.ingest import wire
from jetrack.stats.schema import query_schema
from jetrack.store.stores import Stores
from jetrack.web.openapi import openapi_document
from tests.conftest import LiveServer, make_settings, seed_site

# The public HTTP APIs: every route under these prefixes belongs in the document.
PUBLIC_PREFIXES = ("/api/event", "/api/v2/", "/api/v1/")


def _routes(tmp_path: Path) -> dict[str, set[str]]:
    app = create_app(make_settings(tmp_path / "data"))
    paths: dict[str, set[str]] = {}
    for route in app.routes:
        if isinstance(route, Route):
            # OpenAPI has no converters: /goals/{goal_id}, not /goals/{goal_id:int}.
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
            paths.setdefault(path, set()).update(route.methods or {"POST"})
    return paths


def test_the_document_is_served(settings: Settings, stores: Stores) -> None:
    with TestClient(create_app(settings, stores)) as client:
        response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document == json.loads(json.dumps(openapi_document()))
    assert document["openapi"] == "3.1.0"


def test_paths_and_routes_agree(tmp_path: Path) -> None:
    routes = _routes(tmp_path)
    document = openapi_document()["paths"]
    for path, operations in document.items():
        assert path in routes, f"{path} is documented but no route"
        for method in operations.keys() - {"parameters"}:
            assert method.upper() in routes[path], f"{method.upper()} {path} is no route"
    public = {path for path in routes if path.startswith(PUBLIC_PREFIXES)}
    assert sorted(public - document.keys()) == []


def test_the_query_schema_is_the_servers() -> None:
    document = openapi_document()
    schemas = document["components"]["schemas"]
    source = query_schema()
    moved = json.loads(json.dumps(source).replace('"#/$defs/', '"#/components/schemas/'))
    for name, definition in moved["$defs"].items():
        assert schemas[name] == definition
    assert schemas["QueryRequest"]["properties"] == moved["properties"]
    assert schemas["QueryRequest"]["required"] == source["required"]
    event = schemas["Event"]["properties"]
    assert event["url"]["maxLength"] == wire.MAX_URL_BYTES
    assert event["props"]["maxProperties"] == wire.MAX_PROPS
    batch = document["paths"]["/api/events"]["post"]["requestBody"]["content"]
    assert batch["application/json"]["schema"]["maxItems"] == wire.MAX_BATCH


@pytest.fixture
def fuzz_server(live_server_factory: Callable[..., LiveServer]) -> LiveServer:
    seed = seed_site()
    server = live_server_factory(seed, env={"JETRACK_API_RATE_LIMIT_PER_HOUR": "1000000"})
    server.api_key = seed.key
    return server


EXAMPLES = 30


def aim_at_the_site(case: Any) -> None:
    """Half the cases name the seeded site, so they get past the site lookup and reach the
    query engine and the ingest pipeline instead of stopping at 404."""
    if isinstance(case.query, dict) and "site_id" in case.query:
        case.query["site_id"] = "example.com"
    bodies = case.body if isinstance(case.body, list) else [case.body]
    for body in bodies:
        if isinstance(body, dict):
            if "site_id" in body:
                body["site_id"] = "example.com"
            if "domain" in body:
                body.update(domain="example.com", url="https://example.com/page")


@pytest.mark.slow
def test_schemathesis_finds_no_server_error(fuzz_server: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(fuzz_server.url + "/api/openapi.json")
    headers = {"Authorization": f"Bearer {fuzz_server.api_key}"}
    failures: list[str] = []
    statuses: dict[int, int] = {}
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), results
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    paths = openapi_document()["paths"].values()
    assert len(operations) == sum(len(item.keys() - {"parameters"}) for item in paths)
    for operation in operations:

        @given(case=operation.as_strategy(), own_site=st.booleans())
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any, own_site: bool) -> None:
            if own_site:
                aim_at_the_site(case)
            response = case.call(base_url=fuzz_server.url, headers=headers, timeout=30)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")
            case.validate_response(response, checks=[not_a_server_error], headers=headers)

        try:
            run()
        except Exception as error:  # keep going: report every operation's failures at once
            failures.append(f"{operation.method.upper()} {operation.path}: {error}"[:2000])
    assert failures == []
    assert "internal error" not in fuzz_server.log_text()
    # The fuzzing reached the handlers: valid requests answered and bad ones named.
    assert statuses.get(200, 0) + statuses.get(202, 0) > 0, statuses
    assert statuses.get(400, 0) > 0, statuses
