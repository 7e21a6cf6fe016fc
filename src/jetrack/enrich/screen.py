"""Bucket a screen width in CSS pixels into a device size class."""

from __future__ import annotations

# (exclusive upper bound, label); widths at or above the last bound are "Desktop".
_SIZE_CLASSES: tuple[tuple[int, str], ...] = (
    (576, "Mobile"),
    (992, "Tablet"),
    (1440, "Laptop"),
)


def screen_size(width: int | None) -> str:
    """ "Mobile" (<576), "Tablet" (<992), "Laptop" (<1440), "Desktop", or "" when unknown."""
    if width is None or isinstance(width, bool) or not isinstance(width, int) or width <= 0:
        return ""
    for bound, label in _SIZE_CLASSES:
        if width < bound:
            return label
    return "Desktop"
