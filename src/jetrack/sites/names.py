"""Names people give a site's things (goals, funnels, segments): one printable line."""

from __future__ import annotations

import re
from typing import Any

CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # control characters, newlines and tabs included


def printable_name(value: Any, limit: int) -> str | None:
    """`value` stripped if it is 1 to `limit` printable characters, else None (the caller
    says what is wrong, in its own error)."""
    name = value.strip() if isinstance(value, str) else ""
    if not name or len(name) > limit or CONTROL.search(name):
        return None
    return name
