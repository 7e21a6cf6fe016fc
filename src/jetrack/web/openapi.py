"""GET /api/openapi.json: an OpenAPI 3.1 document of the public HTTP APIs (Events API,
Stats API v2 and v1), built from what the server validates with: the Stats API's JSON
schema (stats/query-schema.json) and the wire format's limits (ingest/wire.py)."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from jetrack import __version__
from jetrack.ingest import wire
from jetrack.stats.schema import query_schema
from jetrack.stats.v1 import PERIODS

COMPONENTS = "#/components/schemas/"


def _relocated(schema: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The query schema without its `$defs`, and the defs, every `#/$defs/x` pointing at
    `#/components/schemas/x` instead (the document's root is no longer the schema's)."""
    text = json.dumps(schema).replace('"#/$defs/', f'"{COMPONENTS}')
    moved: dict[str, Any] = json.loads(text)
    defs = moved.pop("$defs", {})
    for key in ("$schema", "$id"):
        moved.pop(key, None)
    return moved, defs


def _text(description: str, max_length: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "description": description}
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


def event_schema() -> dict[str, Any]:
    """One event as ingest/wire.py reads it (the short aliases are accepted too)."""
    scalar = {"type": ["string", "number", "boolean", "null"]}
    return {
        "type": "object",
        "required": ["name", "url", "domain"],
        "properties": {
            "name": _text("Event name: pageview, engagement or a custom one.", wire.MAX_NAME_CHARS),
            "url": _text("Absolute http(s) URL of the page.", wire.MAX_URL_BYTES),
            "domain": _text("The site's domain, or several separated by commas.", 1000),
            "referrer": _text("The page's referrer.", wire.MAX_REFERRER_BYTES),
            "props": {
                "description": "Custom properties: string keys to scalar values.",
                "type": ["object", "string"],
                "maxProperties": wire.MAX_PROPS,
                "additionalProperties": scalar,
            },
            "revenue": {
                "type": ["object", "string"],
                "properties": {
                    "amount": {"type": ["number", "string"]},
                    "currency": {"type": "string", "minLength": 3, "maxLength": 3},
                },
            },
            "interactive": {"type": ["boolean", "integer", "string"]},
            "hashMode": {"type": ["boolean", "integer", "string"]},
            "screen_width": {"type": "number", "minimum": 0},
            "scroll_depth": {"type": "number", "minimum": 0, "maximum": 100},
            "engagement_time": {"type": "number", "minimum": 0},
            "cookie_id": _text("Only in cookie mode: the first-party visitor id.", 64),
        },
        "description": "Short names are aliases: "
        + ", ".join(f"`{a}`={n}" for a, n in wire.ALIASES.items()),
    }


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": COMPONENTS + "Error"}}},
    }


def _event_operation(summary: str, body: dict[str, Any]) -> dict[str, Any]:
    media = {"schema": body}
    return {
        "summary": summary,
        "security": [],
        "requestBody": {
            "required": True,
            "content": {"application/json": media, "text/plain": media},
        },
        "responses": {
            "202": {
                "description": "Accepted, or dropped (X-Jetrack-Dropped says why).",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            "400": _error("A field is wrong; the message names it."),
            "413": _error(f"The body is above {wire.MAX_BODY_BYTES} bytes."),
        },
    }


def _stats_responses() -> dict[str, Any]:
    return {
        "200": {
            "description": "The results.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        "400": _error("The query is wrong; the message names the field and what is valid."),
        "401": _error("Missing or invalid API key."),
        "404": _error("No such site, or the key may not read it."),
        "413": _error("The body is too large."),
        "429": _error("The key's hourly budget is spent; see Retry-After."),
        "503": _error("The query took too long."),
    }


def _param(name: str, description: str, *, required: bool = False, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": {"type": "string", **schema},
    }


SITE_ID = _param("site_id", "The site's domain.", required=True, minLength=1)
V1_COMMON = [
    SITE_ID,
    _param("period", "The time range.", enum=list(PERIODS)),
    _param("date", "YYYY-MM-DD, or YYYY-MM-DD,YYYY-MM-DD with period=custom."),
    _param("filters", "property==value;property!=value; `|` is or, `*` a wildcard."),
    _param("metrics", "Comma-separated metrics."),
]


def _v1(summary: str, params: list[dict[str, Any]]) -> dict[str, Any]:
    return {"get": {"summary": summary, "parameters": params, "responses": _stats_responses()}}


@cache
def openapi_document() -> dict[str, Any]:
    query, defs = _relocated(copy.deepcopy(query_schema()))
    schemas = {
        **defs,
        "QueryRequest": query,
        "Event": event_schema(),
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string"}},
        },
    }
    events = {"type": "array", "minItems": 1, "maxItems": wire.MAX_BATCH}
    events["items"] = {"$ref": COMPONENTS + "Event"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Jetrack public HTTP APIs",
            "version": __version__,
            "description": "Events API and Stats API (Plausible-compatible). See docs/http.md.",
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"apiKey": []}],
        "paths": {
            "/api/event": {
                "post": _event_operation("Record one event.", {"$ref": COMPONENTS + "Event"})
            },
            "/api/events": {"post": _event_operation("Record up to 1000 events.", events)},
            "/api/v2/query": {
                "post": {
                    "summary": "Stats API v2 query.",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": COMPONENTS + "QueryRequest"}}
                        },
                    },
                    "responses": _stats_responses(),
                }
            },
            "/api/v1/stats/aggregate": _v1(
                "Totals.", [*V1_COMMON, _param("compare", "previous_period")]
            ),
            "/api/v1/stats/timeseries": _v1(
                "A time series.", [*V1_COMMON, _param("interval", "date or month")]
            ),
            "/api/v1/stats/breakdown": _v1(
                "A breakdown by one property.",
                [
                    *V1_COMMON,
                    _param("property", "The property to group by, e.g. visit:source."),
                    _param("limit", "Rows per page.", pattern="^[0-9]{1,4}$"),
                    _param("page", "Page number.", pattern="^[0-9]{1,4}$"),
                ],
            ),
            "/api/v1/stats/realtime/visitors": _v1("Visitors in the last 5 minutes.", [SITE_ID]),
        },
    }


async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(openapi_document())


routes: list[BaseRoute] = [Route("/api/openapi.json", openapi_json, methods=["GET"])]
