"""Fixtures for the tracker tests: one build, a loopback collector, Debian's Chromium."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize

from tests.conftest import CHROMIUM, CHROMIUM_ARGS

from .collector import Collector

ROOT = Path(__file__).resolve().parents[2]
# Headless Chromium says "HeadlessChrome", which Jetrack's bot filter drops.
DESKTOP_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
VIEWPORT: ViewportSize = {"width": 1280, "height": 720}
# Playwright's Chromium reports navigator.webdriver = true, which the tracker (rightly)
# ignores; tests of everything else present an ordinary browser.
HIDE_AUTOMATION = "Object.defineProperty(Navigator.prototype, 'webdriver', {get: () => false})"


@pytest.fixture(scope="session")
def tracker_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Every variant built once into a private directory; returns (directory, build output)."""
    out = tmp_path_factory.mktemp("tracker-build")
    done = subprocess.run(
        ["node", "tracker/build.mjs", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out, done.stdout


@pytest.fixture
def collector(tracker_build: tuple[Path, str]) -> Iterator[Collector]:
    """A collector per test: a closing page's late engagement event cannot reach the next test."""
    server = Collector(tracker_build[0])
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(playwright_driver: Any) -> Iterator[Browser]:
    launched = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield launched
    launched.close()


NewContext = Callable[..., BrowserContext]


@pytest.fixture
def new_context(browser: Browser) -> Iterator[NewContext]:
    """Browser contexts for one test; every page in them must end without a page error."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def make(hide_automation: bool = True, init_script: str = "") -> BrowserContext:
        context = browser.new_context(user_agent=DESKTOP_UA, viewport=VIEWPORT)
        if hide_automation:
            context.add_init_script(HIDE_AUTOMATION)
        if init_script:
            context.add_init_script(init_script)
        context.on("page", lambda page: page.on("pageerror", lambda e: errors.append(str(e))))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert errors == [], f"the page saw errors: {errors}"


def page_html(
    collector: Collector,
    *,
    script: str = "script.js",
    attrs: str = "data-local",
    head: str = "",
    body: str = "",
    load: str = "defer",
    domain: str = "example.test",
) -> str:
    """A test page that loads `script` from the collector with the given data-* attributes."""
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>test</title>'
        '<link rel="icon" href="data:,">'
        f"{head}"
        f'<script {load} data-domain="{domain}" {attrs} '
        f'src="{collector.script_origin}/js/{script}"></script>'
        f"</head><body>{body}</body></html>"
    )


Visit = Callable[..., Page]


@pytest.fixture
def visit(collector: Collector, new_context: NewContext) -> Visit:
    """Serve a page built by `page_html` at `path` and open it in a fresh context."""

    def open_page(
        path: str = "/page",
        *,
        status: int = 200,
        referer: str | None = None,
        hide_automation: bool = True,
        init_script: str = "",
        **html: str,
    ) -> Page:
        url = collector.add_page(path, page_html(collector, **html), status)
        page = new_context(hide_automation, init_script).new_page()
        page.goto(url, referer=referer)
        return page

    return open_page


def track_and_wait(page: Page, name: str = "Probe", options: str = "{}") -> object:
    """Call jetrack() and wait for its callback: sent, dropped or ignored, it has run."""
    return page.evaluate(
        f"new Promise(done => jetrack({name!r}, Object.assign({options}, {{callback: done}})))"
    )


def assert_nothing_sent(collector: Collector, page: Page) -> None:
    """The probe's callback has run, so the script is live, and nothing reached the server."""
    track_and_wait(page)
    page.wait_for_timeout(300)
    assert collector.received == []


TALL = '<div style="height: 4000px">tall page</div>'

HIDE = """(hidden) => {
    // Headless Chromium keeps every tab visible; switch the state a tab switch would.
    Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden})
    Object.defineProperty(document, 'visibilityState', {
        configurable: true, get: () => hidden ? 'hidden' : 'visible'})
    document.dispatchEvent(new Event('visibilitychange'))
}"""
