"""GET /api/openapi.json: an OpenAPI 3.1 document of the public HTTP APIs (Events API,
Stats API v2 with its funnels, and v1), built from what the server validates with: the Stats API's JSON
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


def _json_body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": required}
    return {
        "required": True,
        "content": {
            "application/json": {"schema": schema},
            "application/x-www-form-urlencoded": {"schema": schema},
        },
    }


def _sites_responses(described: str) -> dict[str, Any]:
    return {
        "200": {
            "description": described,
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        "400": _error("A field is missing or wrong; the message names it."),
        "401": _error("Missing or invalid API key, or a key without the sites scope."),
        "403": _error("The key's owner may see the site but not change it."),
        "404": _error("No such site (or goal), or the key may not see it."),
        "413": _error("The body is above 64 KB."),
        "429": _error("The key's hourly budget is spent; see Retry-After."),
    }


def _sites_op(summary: str, body: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    operation = {"summary": summary, "responses": _sites_responses(summary), **extra}
    if body is not None:
        operation["requestBody"] = body
    return operation


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


TEXT = {"type": "string", "minLength": 1}
PAGED = [
    _param("after", "Cursor of the next page."),
    _param("before", "Cursor of the page before."),
]
PAGED.append(_param("limit", "Rows per page (at most 1000).", pattern="^[0-9]{1,4}$"))


def sites_api_paths() -> dict[str, Any]:
    """The Plausible-compatible Sites API (docs/sites-api.md)."""
    site = _param("site_id", "The site's domain.", required=True, minLength=1)
    goal = {
        "site_id": TEXT,
        "goal_type": {"enum": ["event", "page"]},
        "event_name": TEXT,
        "page_path": TEXT,
        "display_name": TEXT,
        "custom_props": {"type": "object", "additionalProperties": {"type": "string"}},
        "currency": {
            "type": "string",
            "pattern": "^[A-Z]{3}$",
            "description": "ISO 4217 code: a revenue goal (event goals only); set on creation.",
        },
    }
    site_fields = {"domain": TEXT, "timezone": TEXT, "team_id": {"type": "integer"}}
    return {
        "/api/v1/sites": {
            "get": _sites_op("The sites the key's owner may see.", parameters=PAGED),
            "post": _sites_op("Create a site.", _json_body(site_fields, ["domain"])),
        },
        "/api/v1/sites/{site_id}": {
            "parameters": [_path_param("site_id")],
            "get": _sites_op("One site."),
            "put": _sites_op("Change a site's domain or time zone.", _json_body(site_fields, [])),
            "delete": _sites_op("Delete a site (its events are purged)."),
        },
        "/api/v1/sites/goals": {
            "get": _sites_op("A site's goals.", parameters=[site, *PAGED]),
            "put": _sites_op("Find or create a goal.", _json_body(goal, ["site_id", "goal_type"])),
        },
        "/api/v1/sites/goals/{goal_id}": {
            "parameters": [_path_param("goal_id")],
            "delete": _sites_op("Delete a goal (its events stay).", parameters=[site]),
        },
        "/api/v1/sites/custom-props": {
            "get": _sites_op("A site's allowed custom properties.", parameters=[site]),
            "put": _sites_op(
                "Allow a custom property.",
                _json_body({"site_id": TEXT, "property": TEXT}, ["site_id", "property"]),
            ),
        },
        "/api/v1/sites/custom-props/{property}": {
            "parameters": [_path_param("property")],
            "delete": _sites_op("Stop allowing a custom property.", parameters=[site]),
        },
        "/api/v1/sites/shared-links": {
            "put": _sites_op(
                "Find or create a shared link by name.",
                _json_body({"site_id": TEXT, "name": TEXT}, ["site_id", "name"]),
            ),
        },
        "/api/v1/sites/guests": {
            "get": _sites_op("A site's guests and invitations.", parameters=[site, *PAGED]),
            "put": _sites_op(
                "Invite a guest.",
                _json_body({"email": TEXT, "role": {"enum": ["viewer", "editor"]}}, ["email"]),
                parameters=[site],
            ),
        },
        "/api/v1/sites/guests/{email}": {
            "parameters": [_path_param("email")],
            "delete": _sites_op("Remove a guest or withdraw an invitation.", parameters=[site]),
        },
    }


def funnel_paths(query: dict[str, Any]) -> dict[str, Any]:
    """The funnels of the Stats API (docs/funnels.md): date range and filters are the
    query's (`query`, the relocated QueryRequest schema)."""
    request = {
        "type": "object",
        "additionalProperties": False,
        "required": ["site_id", "funnel_id", "date_range"],
        "properties": {
            "site_id": {"type": "string", "description": "The site's domain."},
            "funnel_id": {
                "type": "integer",
                "minimum": 1,
                "description": "A funnel's id, from GET /api/v2/funnels.",
            },
            "date_range": query["properties"]["date_range"],
            "filters": query["properties"]["filters"],
        },
    }
    responses = _stats_responses()
    responses["404"] = _error("No such site or funnel, or the key may not read it.")
    return {
        "/api/v2/funnels": {
            "get": {
                "summary": "The site's saved funnels: id, name and the goals of their steps.",
                "parameters": [SITE_ID],
                "responses": _stats_responses(),
            }
        },
        "/api/v2/funnel": {
            "post": {
                "summary": "Visitors through a funnel's steps, in order within a visit.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": request}},
                },
                "responses": responses,
            }
        },
    }


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
            "description": "Events API, Stats API and Sites API (Plausible-compatible). See docs/http.md.",
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
            **funnel_paths(query),
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
            **sites_api_paths(),
        },
    }


async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(openapi_document())


routes: list[BaseRoute] = [Route("/api/openapi.json", openapi_json, methods=["GET"])]
