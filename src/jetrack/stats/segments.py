"""Saved segments as the engine sees them: which ids a request names, whether filters may be
saved as a segment, and a stored segment made ready for a query (SegmentInfo).

Pure. The web layer looks the named segments up in the control store (the asker's own
personal ones and the site's) and hands them to the engine on SiteInfo.segments; parsing
expands them (jetrack.stats.parse.expand_segments)."""

from __future__ import annotations

import json
from typing import Any

from jetrack.stats.errors import QueryError
from jetrack.stats.parse import SEGMENT_DIMENSION, parse_filter
from jetrack.stats.query import SegmentInfo
from jetrack.stats.schema import validate_request

MAX_SAVED_BYTES = 5 * 1024  # a segment's filters as JSON (Plausible's limit)


def requested_ids(filters: Any) -> list[int]:
    """The segment ids a request's `filters` name, first seen first, each once. Reads a body
    not yet validated: anything not shaped like a segment filter is left to the schema."""
    found: list[int] = []
    pending = list(filters) if isinstance(filters, list) else []
    steps = 0
    while pending and steps < 10_000:  # a hostile body is refused by the schema, not here
        steps += 1
        node = pending.pop(0)
        if not isinstance(node, list) or len(node) < 2:
            continue
        head, second = node[0], node[1]
        if head in ("and", "or") and isinstance(second, list):
            pending.extend(second)
        elif head == "not":
            pending.append(second)
        elif second == SEGMENT_DIMENSION and len(node) > 2 and isinstance(node[2], list):
            for value in node[2]:
                number = _whole(value)
                if number is not None and number not in found:
                    found.append(number)
    return found


def _whole(value: Any) -> int | None:
    # JSON Schema counts 12.0 as an integer; JSON parsers hand it over as a float.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def check_saved_filters(filters: Any) -> list[Any]:
    """`filters` if they may be saved as a segment: Stats API v2 filters (the query schema's
    rules), at least one, no segment among them, at most 5 KB as JSON. QueryError names
    the problem."""
    if not isinstance(filters, list) or not filters:
        raise QueryError('filters: a segment needs at least one filter, e.g. [["is", ...]]')
    validate_request(
        {"site_id": "-", "metrics": ["visitors"], "date_range": "day", "filters": filters}
    )
    if requested_ids(filters):
        raise QueryError("filters: a segment cannot contain another segment")
    if len(json.dumps(filters, separators=(",", ":"))) > MAX_SAVED_BYTES:
        raise QueryError(
            f"filters: a segment's filters are at most {MAX_SAVED_BYTES} bytes of JSON"
        )
    return filters


def saved_segment(segment_id: int, name: str, filters: Any) -> SegmentInfo:
    """A stored segment ready for a query. Its filters were checked when it was saved; a
    later, stricter schema may refuse them, and then the answer names the segment."""
    try:
        checked = check_saved_filters(filters)
    except QueryError as exc:
        raise QueryError(
            f"segment {segment_id} ({name!r}) holds filters this version refuses: "
            f"{exc.message}; edit or delete the segment"
        ) from None
    return SegmentInfo(segment_id, name, tuple(parse_filter(f) for f in checked))
