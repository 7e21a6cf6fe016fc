"""In Chromium: the pages and the dashboard run under their CSP with no violation, and a
shared link renders in an iframe on a listed origin and is refused on any other."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from jetrack.accounts.login_sessions import start_session
from jetrack.demo import seed_demo
from jetrack.sites import shared_links
from jetrack.store.stores import Stores
from jetrack.web.dashboard import BUILD_DIR
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DOMAIN = "csp.example"
EMBED_PORT = free_port()
LISTED = f"http://127.0.0.1:{EMBED_PORT}"
UNLISTED = f"http://localhost:{EMBED_PORT}"  # another origin for the same page server


class Seeded:
    token = ""
    slug = ""


def _seed(stores: Stores) -> None:
    site = seed_demo(stores, DOMAIN, "owner@example.com", days=3, visitors_per_day=20)
    with stores.control.session() as session:
        site = session.merge(site)
        _, Seeded.token = start_session(session, site.owner)
        Seeded.slug = shared_links.create_shared_link(session, site, "embed", origins=LISTED).slug


@pytest.fixture(scope="module")
def chromium(playwright_driver: Any) -> Iterator[Browser]:
    assert (BUILD_DIR / ".vite" / "manifest.json").exists(), "build the dashboard first"
    browser = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@pytest.fixture
def server(live_server_factory: Callable[..., LiveServer]) -> LiveServer:
    return live_server_factory(_seed)


def _console_errors(page: Page) -> list[str]:
    errors: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        # CSP violations are reported on the console ("Refused to ... Content Security
        # Policy"); other console noise (a favicon's 404) is not this test's business.
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            errors.append(message.text)

    page.on("console", keep)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


SIGNED_OUT = ["/login", "/signup", "/welcome", "/privacy", "/contact", "/forgot-password"]
SIGNED_IN = [
    f"/sites/{DOMAIN}",
    "/sites",
    "/account",
    f"/sites/{DOMAIN}/settings",
    f"/sites/{DOMAIN}/shared-links",
]


def test_pages_and_the_dashboard_run_without_csp_violations(
    chromium: Browser, server: LiveServer
) -> None:
    context = chromium.new_context()
    page = context.new_page()
    errors = _console_errors(page)
    for path in SIGNED_OUT:
        page.goto(server.url + path)
        expect(page.locator("main, body").first).to_be_visible()
    context.add_cookies([{"name": "jt_session", "value": Seeded.token, "url": server.url}])
    for path in SIGNED_IN:
        page.goto(server.url + path)
        page.wait_for_load_state("networkidle")
    page.goto(f"{server.url}/sites/{DOMAIN}")
    # The dashboard drew its numbers, chart and map: its scripts and styles all loaded.
    stat = page.locator('[data-testid="stat-visitors"]')
    expect(stat).to_be_visible(timeout=20000)
    expect(stat).not_to_have_attribute("data-value", "")
    page.wait_for_load_state("networkidle")
    page.goto(f"{server.url}/share/{Seeded.slug}")
    stat = page.locator('[data-testid="stat-visitors"]')
    expect(stat).to_be_visible(timeout=20000)
    expect(stat).not_to_have_attribute("data-value", "")
    page.wait_for_load_state("networkidle")
    context.close()
    assert errors == []


class _EmbeddingPage(BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:
        body = f'<!doctype html><title>blog</title><iframe id="embed" src="{self.target}" width="1200" height="900"></iframe>'
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def embedding_site(server: LiveServer) -> Iterator[None]:
    handler = type(
        "Page", (_EmbeddingPage,), {"target": f"{server.url}/share/{Seeded.slug}?embed=true"}
    )
    httpd = ThreadingHTTPServer(("127.0.0.1", EMBED_PORT), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield
    httpd.shutdown()
    httpd.server_close()


def test_a_listed_origin_frames_the_link_and_another_is_refused(
    chromium: Browser, server: LiveServer, embedding_site: None
) -> None:
    context = chromium.new_context()
    page = context.new_page()
    errors = _console_errors(page)
    page.goto(LISTED + "/")
    frame = page.frame_locator("#embed")
    stat = frame.locator('[data-testid="stat-visitors"]')
    expect(stat).to_be_visible(timeout=20000)  # rendered inside the iframe
    expect(stat).not_to_have_attribute("data-value", "")
    assert errors == []

    refused = context.new_page()
    refused_errors = _console_errors(refused)
    refused.goto(UNLISTED + "/")
    refused.wait_for_load_state("networkidle")
    inner = refused.frames[1]
    assert inner.url.startswith("chrome-error://") or inner.locator("#jt-dashboard").count() == 0
    assert any("frame-ancestors" in text for text in refused_errors), refused_errors
    context.close()
