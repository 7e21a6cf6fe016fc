"""A sparkline as inline SVG geometry: the line's points and the area under it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 120
HEIGHT = 32
PAD = 2  # keeps the stroke of the highest and lowest points inside the box


@dataclass(frozen=True, slots=True)
class Sparkline:
    """`points` for an SVG polyline, `area` for a path, in a WIDTH x HEIGHT view box."""

    points: str
    area: str
    width: int = WIDTH
    height: int = HEIGHT


def sparkline(values: Sequence[int]) -> Sparkline:
    """Scaled so the largest value touches the top; all zeros lie along the bottom."""
    top = max(values, default=0) or 1
    step = WIDTH / max(len(values) - 1, 1)
    coords = [
        (round(i * step, 1), round(HEIGHT - PAD - value * (HEIGHT - 2 * PAD) / top, 1))
        for i, value in enumerate(values)
    ]
    points = " ".join(f"{x:g},{y:g}" for x, y in coords)
    area = f"M0,{HEIGHT} L" + " L".join(f"{x:g},{y:g}" for x, y in coords) + f" L{WIDTH},{HEIGHT} Z"
    return Sparkline(points, area)
