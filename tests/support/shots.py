"""Screenshots for a person to look at (test-artifacts/), taken only when TEST_SHOTS is set:
`make shots` runs the browser tests with it. Each costs Chromium ~0.2 s of CPU and a run
of the suite took ~170 (docs/benchmarks.md, "The test suite, session 14"), for pictures
nobody looks at in CI."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Locator, Page

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def wanted() -> bool:
    return bool(os.environ.get("TEST_SHOTS"))


def shot(target: Page | Locator, path: Path, *, full_page: bool = True) -> None:
    """The page (the whole of it unless `full_page` is false), or the element a locator
    finds, saved as the PNG `path` when TEST_SHOTS is set."""
    if not wanted():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(target, Page):
        target.screenshot(path=str(path), full_page=full_page)
    else:
        target.screenshot(path=str(path))
