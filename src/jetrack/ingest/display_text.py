"""Characters that would spoof how a stored value is displayed, removed at ingestion."""

from __future__ import annotations

# Control characters (C0, DEL, C1), bidirectional formatting (embeddings, overrides,
# isolates, marks: U+202E shows "/gpj.exe" as "/exe.jpg"), line and paragraph separators,
# and the zero-width characters that only hide text (space, word joiner, byte-order mark).
# Zero-width (non-)joiners stay: emoji sequences and several scripts need them.
SPOOFING = frozenset(
    [
        *range(0x00, 0x20),
        0x7F,
        *range(0x80, 0xA0),
        0x061C,  # Arabic letter mark
        0x200B,  # zero-width space
        0x200E,  # left-to-right mark
        0x200F,  # right-to-left mark
        0x2028,  # line separator
        0x2029,  # paragraph separator
        *range(0x202A, 0x202F),  # embeddings and overrides
        0x2060,  # word joiner
        *range(0x2066, 0x206A),  # isolates
        0xFEFF,  # zero-width no-break space (byte-order mark)
    ]
)
_REMOVE = dict.fromkeys(SPOOFING)


def displayable(text: str) -> str:
    """`text` without the SPOOFING characters. Callers pass values as they will be stored
    and shown: a percent-encoded path after it is decoded."""
    if text.isascii() and text.isprintable():  # nearly every value: checked in C, no copy
        return text
    return text.translate(_REMOVE)
