"""The visitor's preferred language from an Accept-Language header."""

from __future__ import annotations

import re
from functools import lru_cache

# A language range's primary subtag: 1-8 letters (RFC 4647 / BCP 47); "*" is no language.
_PRIMARY_SUBTAG = re.compile(r"[A-Za-z]{1,8}")
_MAX_HEADER_LENGTH = 512


@lru_cache(maxsize=4096)
def primary_language(accept_language: str) -> str:
    """Primary subtag of the highest-q language, lower-case ("en-US,en;q=0.9" -> "en"), or ""."""
    if not isinstance(accept_language, str):
        return ""
    best_quality = 0.0
    best = ""
    for item in accept_language[:_MAX_HEADER_LENGTH].split(","):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().split("-", 1)[0]
        if not _PRIMARY_SUBTAG.fullmatch(primary):
            continue
        quality = _quality(params)
        # Strictly greater keeps the first of equal-quality tags, as the header orders them.
        if quality > best_quality:
            best_quality, best = quality, primary.lower()
    return best


def _quality(params: str) -> float:
    """The q value of one language range's parameters; 1.0 when absent, 0.0 when malformed."""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                return 0.0
            return quality if 0.0 <= quality <= 1.0 else 0.0
    return 1.0
