"""`matches` patterns compiled with re2, the engine ClickHouse matches with: linear time
whatever the pattern, so no client can stall a thread with a backtracking one."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

from jetrack.stats.errors import QueryError

# ClickHouse refuses a pattern above its own limits after it has started running; a
# bound here keeps a compiled program small (re2's default max_mem is 8 MiB).
MAX_PATTERN_LENGTH = 1000


@lru_cache(maxsize=256)
def _compiled(pattern: str, case_sensitive: bool) -> Any:
    options = re2.Options()
    options.log_errors = False  # re2 would write the client's pattern to stderr
    options.case_sensitive = case_sensitive
    return re2.compile(pattern, options)


def compile_pattern(pattern: str, case_sensitive: bool = True, *, dimension: str = "") -> Any:
    """The compiled pattern; QueryError naming the clause when re2 refuses it."""
    field = f"filters: {dimension}" if dimension else "filters"
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise QueryError(
            f"{field}: a matches pattern is at most {MAX_PATTERN_LENGTH} characters long"
        )
    try:
        return _compiled(pattern, case_sensitive)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise QueryError(
            f"{field}: {pattern[:80]!r} is not a valid regular expression (re2: {reason})"
        ) from None
