"""The Stats API request contract: load query-schema.json, validate, explain a failure."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from jetrack.stats.errors import QueryError

SCHEMA_FILE = "query-schema.json"
# And/or/not levels one filter may nest. Deeper trees are refused before the schema sees
# them: nobody writes them by hand, and each level costs every later step more work.
MAX_FILTER_DEPTH = 8


@cache
def query_schema() -> dict[str, Any]:
    text = resources.files("jetrack.stats").joinpath(SCHEMA_FILE).read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft202012Validator:
    schema = query_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def validate_request(request: Any) -> None:
    """Raise QueryError naming the first wrong part of the request and what is valid."""
    if not isinstance(request, dict):
        raise QueryError("the request body must be a JSON object with site_id, metrics, date_range")
    _check_filter_depth(request.get("filters"))
    try:
        errors = list(_validator().iter_errors(request))
        if errors:
            raise QueryError(explain(_most_specific(errors)))
    except RecursionError:
        # A value nested hundreds of levels deep where the schema wants a flat one.
        raise QueryError("request: a value is nested too deeply to be valid") from None


def _check_filter_depth(filters: Any) -> None:
    if not isinstance(filters, list):
        return
    for index, tree in enumerate(filters):
        # Iterative on purpose: the tree may be as deep as the JSON parser allows.
        pending: list[tuple[Any, int]] = [(tree, 0)]
        while pending:
            node, depth = pending.pop()
            if depth > MAX_FILTER_DEPTH:
                raise QueryError(
                    f"filters[{index}]: and/or/not nested more than {MAX_FILTER_DEPTH} levels"
                    " deep; write the filter with fewer levels (several top-level filters"
                    " are combined with and)"
                )
            pending.extend((child, depth + 1) for child in _children(node))


def _children(node: Any) -> list[Any]:
    """The sub-filters of an and/or/not filter; none for anything else."""
    if not isinstance(node, list) or len(node) < 2:
        return []
    if node[0] == "not":
        return [node[1]]
    if node[0] in ("and", "or") and isinstance(node[1], list):
        return list(node[1])
    return []


def _most_specific(errors: list[ValidationError]) -> ValidationError:
    # Prefer the error deepest in the request: it names the smallest wrong part.
    return max(errors, key=lambda e: (len(e.absolute_path), -len(e.schema_path)))


def _path(error: ValidationError) -> str:
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "request"


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _branch_error(error: ValidationError) -> ValidationError | None:
    """For anyOf: the failure inside the alternative the client most likely meant."""
    # The meant alternative is the one with the fewest failures, then the deepest;
    # when two alternatives tie, the anyOf's own description is the better answer.
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(sub.schema_path[0] if sub.schema_path else None, []).append(sub)
    if not branches:
        return None

    def score(errors: list[ValidationError]) -> tuple[int, int]:
        return (-len(errors), max(len(e.absolute_path) for e in errors))

    ranked = sorted(branches.values(), key=score, reverse=True)
    if len(ranked) > 1 and score(ranked[0]) == score(ranked[1]):
        return None
    best = ranked[0]
    return max(best, key=lambda e: (len(e.absolute_path), -len(e.schema_path)))


def explain(error: ValidationError) -> str:
    if error.validator in ("anyOf", "oneOf"):
        inner = _branch_error(error)
        if inner is not None:
            return explain(inner)
    where = _path(error)
    schema = error.schema if isinstance(error.schema, dict) else {}
    title = schema.get("title")
    description = schema.get("description")
    if error.validator == "required":
        return f"{where}: {error.message.replace('is a required property', 'is required')}"
    if error.validator == "additionalProperties":
        allowed = ", ".join(sorted(schema.get("properties", {})))
        return f"{where}: {error.message}; allowed keys: {allowed}"
    if error.validator in ("enum", "const", "anyOf", "oneOf", "pattern") and description:
        name = f" {_words(title)}" if title else ""
        return (
            f"{where}: {_shown(error.instance)} is not a valid{name}; {_lower_first(description)}"
        )
    if error.validator in ("minItems", "maxItems", "items") and description:
        return f"{where}: {_shown(error.instance)} has the wrong number of items; {_lower_first(description)}"
    detail = error.message
    if description:
        detail += f" ({_lower_first(description)})"
    return f"{where}: {detail}"


def _words(title: str) -> str:
    out = ""
    for char in title:
        out += (" " + char.lower()) if char.isupper() and out else char.lower()
    return out


def _lower_first(text: str) -> str:
    if text[:2].isupper():
        return text
    return text[:1].lower() + text[1:]
