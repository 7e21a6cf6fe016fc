"""screen_size buckets widths at 576, 992 and 1440 CSS pixels."""

from __future__ import annotations

import pytest

from jetrack.enrich.screen import screen_size


@pytest.mark.parametrize(
    ("width", "size"),
    [
        (None, ""),
        (0, ""),
        (-5, ""),
        (320, "Mobile"),
        (575, "Mobile"),
        (576, "Tablet"),
        (991, "Tablet"),
        (992, "Laptop"),
        (1439, "Laptop"),
        (1440, "Desktop"),
        (3840, "Desktop"),
    ],
)
def test_screen_size(width: int | None, size: str) -> None:
    assert screen_size(width) == size
