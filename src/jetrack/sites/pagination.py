"""Cursor pages of a list (the Sites API's `meta: {before, after, limit}`): pure, no I/O."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
SortKey = tuple[int, ...]
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class CursorError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    before: str | None
    after: str | None
    limit: int

    def meta(self) -> dict[str, object]:
        return {"before": self.before, "after": self.after, "limit": self.limit}


def encode_cursor(key: SortKey) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def decode_cursor(field: str, cursor: str) -> SortKey:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = json.loads(base64.b64decode(padded, altchars=b"-_", validate=True))
    except ValueError:
        raise CursorError(field, "is not a cursor this API gave out") from None
    if not isinstance(raw, list) or not raw or not all(type(v) is int for v in raw):
        raise CursorError(field, "is not a cursor this API gave out")
    return tuple(raw)


def parse_limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise CursorError("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
    return int(value)


def page_of(
    items: Sequence[T],
    key: Callable[[T], SortKey],
    *,
    limit: int,
    after: str | None = None,
    before: str | None = None,
) -> Page[T]:
    """One page of `items` in ascending `key` order (keys unique): the first `limit` after
    the `after` cursor, or the last `limit` before the `before` cursor."""
    ordered = sorted(items, key=key)
    if after:
        mark = decode_cursor("after", after)
        ordered = [i for i in ordered if key(i) > mark]
        chosen = ordered[:limit]
        more_before, more_after = True, len(ordered) > limit
    elif before:
        mark = decode_cursor("before", before)
        ordered = [i for i in ordered if key(i) < mark]
        chosen = ordered[-limit:]
        more_before, more_after = len(ordered) > limit, True
    else:
        chosen = ordered[:limit]
        more_before, more_after = False, len(ordered) > limit
    return Page(
        items=chosen,
        before=encode_cursor(key(chosen[0])) if chosen and more_before else None,
        after=encode_cursor(key(chosen[-1])) if chosen and more_after else None,
        limit=limit,
    )
