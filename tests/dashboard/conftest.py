"""Fixtures for the dashboard tests: a demo-seeded server, sessions to log in with, Chromium."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from jetrack.accounts.api_keys import create_api_key
from jetrack.accounts.sessions import start_session
from jetrack.accounts.users import create_user
from jetrack.demo import seed_demo
from jetrack.sites import shared_links
from jetrack.sites.sites import add_site
from jetrack.store.stores import Stores
from jetrack.web.dashboard import BUILD_DIR
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
DEMO = "demo.jetrack.local"
EMPTY = "empty.example.com"
OWNER = "owner@example.com"
PASSWORD = "correct horse battery"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass
class Seeded:
    """What the seed made: the owner's session token and API key, a stranger, a shared link."""

    owner_token: str = ""
    owner_csrf: str = ""
    stranger_token: str = ""
    stranger_csrf: str = ""
    api_key: str = ""
    slug: str = ""
    protected_slug: str = ""
    domains: list[str] = field(default_factory=list)


def seed_dashboard(seeded: Seeded, visitors_per_day: int = 120) -> Callable[[Stores], None]:
    def seed(stores: Stores) -> None:
        site = seed_demo(
            stores, DEMO, OWNER, days=90, visitors_per_day=visitors_per_day, password=PASSWORD
        )
        with stores.control.session() as session:
            owner = session.merge(site).owner
            add_site(session, owner, EMPTY)
            _, seeded.api_key = create_api_key(session, owner, "dashboard tests")
            row, seeded.owner_token = start_session(session, owner)
            seeded.owner_csrf = row.csrf_token
            stranger = create_user(session, "stranger@example.com", password=PASSWORD)
            row, seeded.stranger_token = start_session(session, stranger)
            seeded.stranger_csrf = row.csrf_token
            demo = session.merge(site)
            seeded.slug = shared_links.create_shared_link(session, demo, "public").slug
            protected = shared_links.create_shared_link(session, demo, "secret", PASSWORD)
            seeded.protected_slug = protected.slug
        seeded.domains = [DEMO, EMPTY]

    return seed


@dataclass
class DemoServer:
    server: LiveServer
    seeded: Seeded

    @property
    def url(self) -> str:
        return self.server.url

    def api(self, query: dict[str, Any]) -> dict[str, Any]:
        """The public Stats API's answer (POST /api/v2/query) for the demo site."""
        response = httpx.post(
            self.url + "/api/v2/query",
            json={"site_id": DEMO, **query},
            headers={"Authorization": f"Bearer {self.seeded.api_key}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def demo_server(live_server_factory: Callable[..., LiveServer]) -> DemoServer:
    seeded = Seeded()
    server = live_server_factory(seed_dashboard(seeded))
    return DemoServer(server, seeded)


@pytest.fixture(scope="session")
def dashboard_built() -> None:
    manifest = BUILD_DIR / ".vite" / "manifest.json"
    assert manifest.exists(), (
        "the dashboard is not built: run `npm --prefix frontend ci && npm --prefix frontend run build`"
    )


@pytest.fixture(scope="module")
def chromium(dashboard_built: None, playwright_driver: Any) -> Iterator[Browser]:
    browser = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


OpenPage = Callable[..., Page]


@pytest.fixture
def open_page(chromium: Browser, demo_server: DemoServer) -> Iterator[OpenPage]:
    """`open_page(path, logged_in=True, viewport=DESKTOP)`: a page in a fresh context; the
    test fails on any uncaught script error."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def open_(path: str, *, logged_in: bool = True, viewport: dict[str, int] = DESKTOP) -> Page:
        context = chromium.new_context(viewport=viewport)  # type: ignore[arg-type]
        if logged_in:
            context.add_cookies(
                [
                    {
                        "name": "jt_session",
                        "value": demo_server.seeded.owner_token,
                        "url": demo_server.url,
                    }
                ]
            )
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(demo_server.url + path)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert errors == [], f"script errors in the dashboard: {errors}"


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
