"""Fixtures for the dashboard tests: a demo-seeded server, sessions to log in with, Chromium."""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import subprocess
import sys
import time as clock
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from jetrack.accounts.api_keys import create_api_key
from jetrack.accounts.login_sessions import start_session
from jetrack.accounts.users import create_user
from jetrack.demo import seed_demo
from jetrack.imports import registry
from jetrack.jobs import runner
from jetrack.jobs.rollups import run_rollups
from jetrack.sites import shared_links
from jetrack.sites.goals import create_goal, goal_spec
from jetrack.sites.sites import add_site
from jetrack.store.job_queue import JobContext
from jetrack.store.models import Site
from jetrack.store.sessions import rebuild_sessions
from jetrack.store.stores import Stores, open_stores
from jetrack.web.dashboard import BUILD_DIR
from tests.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveServer,
    copy_data_dir,
    make_settings,
    start_server,
)
from tests.imports import plausible_export as export
from tests.support import shots
from tests.support.shots import shot

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = shots.ARTIFACTS / "dashboard"
DEMO = "demo.jetrack.local"
EMPTY = "empty.example.com"
SHOP = "shop.example.com"  # a few hand-made visits with goals, counted in SHOP_VISITS
IMPORTED = "imported.example.com"  # only a Plausible export's history (IMPORTED_DAYS to yesterday)
IMPORTED_DAYS = 14
OWNER = "owner@example.com"
PASSWORD = "correct horse battery"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass
class Seeded:
    """What the seed made: the owner's session token and API key, a stranger, a shared link."""

    owner_token: str = ""
    owner_csrf: str = ""
    logout_token: str = ""  # another session of the owner, for a test that logs out
    stranger_token: str = ""
    stranger_csrf: str = ""
    api_key: str = ""
    slug: str = ""
    protected_slug: str = ""
    domains: list[str] = field(default_factory=list)


# Each visitor's events two days ago: a page path, or (event name, {prop: value}).
SHOP_VISITS: list[list[str | tuple[str, dict[str, str]]]] = [
    ["/", "/pricing", ("Signup", {"plan": "pro"})],
    ["/", "/pricing", ("Signup", {"plan": "free"}), ("Signup", {"plan": "free"})],
    ["/", "/pricing", ("Outbound Link: Click", {"url": "https://github.com/x"})],
    [
        "/blog",
        ("Outbound Link: Click", {"url": "https://github.com/x"}),
        ("Outbound Link: Click", {"url": "https://example.org/"}),
    ],
    ["/", ("Signup", {"plan": "pro"})],
    ["/pricing", "/pricing"],
    ["/"],
    ["/"],
    ["/"],
    ["/"],
]
# By hand from SHOP_VISITS (10 visitors): goal -> (unique conversions, total, rate).
SHOP_GOALS = {
    "Visit /pricing": (4, 5, 40.0),
    "Signup": (3, 4, 30.0),
    "Outbound Link: Click": (2, 3, 20.0),
}


def seed_shop(stores: Stores, site: Site) -> None:
    """SHOP_VISITS as events, and the goals of SHOP_GOALS (made as the settings page does)."""
    # At 01:00 UTC (the site's zone) two days ago: the visits take 100 minutes, and from
    # the current hour they crossed midnight after 22:00 (the day's graph split them).
    start = datetime.combine(datetime.now(UTC).date() - timedelta(days=2), time(1), UTC)
    for visitor, visit in enumerate(SHOP_VISITS, start=1):
        for step, event in enumerate(visit):
            name, path, props = (
                ("pageview", event, {}) if isinstance(event, str) else (event[0], "/", event[1])
            )
            moment = start + timedelta(minutes=10 * visitor + step)
            stores.events.command(
                "INSERT INTO events (site_id, timestamp, name, pathname, hostname, visitor_id,"
                " session_id, props) VALUES ({site:UInt32}, {ts:DateTime('UTC')}, {name:String},"
                " {path:String}, {host:String}, {visitor:UInt64}, {session:UInt64},"
                " {props:Map(String, String)})",
                {
                    "site": site.id,
                    "ts": moment.strftime("%Y-%m-%d %H:%M:%S"),
                    "name": name,
                    "path": path,
                    "host": SHOP,
                    "visitor": visitor,
                    "session": 1000 + visitor,
                    "props": props,
                },
            )
    rebuild_sessions(stores.events, site_id=site.id)
    with stores.control.session() as session:
        shop = session.merge(site)
        create_goal(session, shop, goal_spec("page", page_path="/pricing"))
        create_goal(session, shop, goal_spec("event", event_name="Signup"))
        create_goal(session, shop, goal_spec("event", event_name="Outbound Link: Click"))


def seed_imported(stores: Stores, site: Site) -> None:
    """A Plausible export of the IMPORTED_DAYS before today (tests/imports/plausible_export.py),
    imported as the imports page's job does, and a goal of each type it has conversions of."""
    first = datetime.now(UTC).date() - timedelta(days=IMPORTED_DAYS)
    path = export.write_export(stores.settings.data_dir / "seed-export.zip", first, IMPORTED_DAYS)
    with stores.control.session() as session:
        registry.create_import(session, site.id, "plausible", path.name, {"path": str(path)})
        merged = session.merge(site)
        create_goal(session, merged, goal_spec("event", event_name="Signup"))
        create_goal(session, merged, goal_spec("page", page_path="/pricing"))
    assert runner.run_pending(stores, kinds=("import",)) == 1


def seed_dashboard(seeded: Seeded, visitors_per_day: int = 120) -> Callable[[Stores], None]:
    def seed(stores: Stores) -> None:
        site = seed_demo(
            stores, DEMO, OWNER, days=90, visitors_per_day=visitors_per_day, password=PASSWORD
        )
        with stores.control.session() as session:
            owner = session.merge(site).owner
            add_site(session, owner, EMPTY)
            shop = add_site(session, owner, SHOP)
            _, seeded.api_key = create_api_key(session, owner, "dashboard tests")
            row, seeded.owner_token = start_session(session, owner)
            seeded.owner_csrf = row.csrf_token
            _, seeded.logout_token = start_session(session, owner)
            stranger = create_user(session, "stranger@example.com", password=PASSWORD)
            row, seeded.stranger_token = start_session(session, stranger)
            seeded.stranger_csrf = row.csrf_token
            demo = session.merge(site)
            seeded.slug = shared_links.create_shared_link(session, demo, "public").slug
            protected = shared_links.create_shared_link(session, demo, "secret", PASSWORD)
            seeded.protected_slug = protected.slug
            imported = add_site(session, owner, IMPORTED)
        seed_shop(stores, shop)
        seed_imported(stores, imported)
        seeded.domains = [DEMO, EMPTY, SHOP, IMPORTED]

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


def rolled_up(stores: Stores) -> None:
    """Roll up every settled day, as the server's hourly job does on its first runs."""
    context = JobContext(stores, 0, {})
    while True:
        run_rollups(context)
        if not context.payload["days"] and not context.payload["cut_days"]:
            return


def shared_tmp(factory: pytest.TempPathFactory) -> Path:
    """The temporary folder of the whole test run (shared by its xdist workers)."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def start_demo_data(shared: Path) -> None:
    """Start making the demo data in `shared`, in a process of its own, unless a test
    process of this run did already (tests/conftest.py calls this once the tests are
    collected, so it is made while the first tests run)."""
    place = shared / "demo-data"
    with open(shared / "demo-data.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if place.exists():
            return
        place.mkdir()
        with open(place / "log", "wb") as log:  # the child keeps its own descriptor
            maker = subprocess.Popen(
                [sys.executable, "-m", "tests.web.dashboard_world", str(place)],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        atexit.register(maker.wait)  # done long before; a handle left running warns


def make_demo_data(place: Path) -> None:
    seeded = Seeded()
    stores = open_stores(make_settings(place / "data"))
    try:
        seed_dashboard(seeded)(stores)
        rolled_up(stores)
    finally:
        stores.close()
    made = place / "seeded.json.new"
    made.write_text(json.dumps(asdict(seeded)))
    made.rename(place / "seeded.json")  # last: what the tests wait for


def _log_end(place: Path) -> str:
    return (place / "log").read_text(errors="replace")[-3000:]


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Seeded]:
    """The demo data (90 days, rolled up) and what the seed made, made once per test run
    by a process of its own (start_demo_data), and every module with a `demo_server`
    starts its server on a copy. Rolling up its days is ~40 s of CPU (~0.5 s a day),
    which a server would otherwise spend at each start."""
    shared = shared_tmp(tmp_path_factory)
    start_demo_data(shared)
    place = shared / "demo-data"
    deadline = clock.monotonic() + 600
    while not (place / "seeded.json").exists():
        # The maker's log is read only for a failure's message.
        assert not (place / "failed").exists(), f"the demo data was not made: {_log_end(place)}"
        assert clock.monotonic() < deadline, (
            f"the demo data took over 10 minutes: {_log_end(place)}"
        )
        clock.sleep(0.2)
    return place / "data", Seeded(**json.loads((place / "seeded.json").read_text()))


@pytest.fixture(scope="module")
def demo_server(
    tmp_path_factory: pytest.TempPathFactory, demo_data: tuple[Path, Seeded]
) -> Iterator[DemoServer]:
    """One `jetrack serve` on a copy of the demo data per test module: seeding 90 days and
    starting the server is most of a test's time, and the tests only read (a test that logs
    out uses `Seeded.logout_token`, not the owner's session the others share)."""
    template, seeded = demo_data
    data_dir = tmp_path_factory.mktemp("demo-server") / "data"
    copy_data_dir(template, data_dir)
    server = start_server(data_dir)
    yield DemoServer(server, seeded)
    server.stop()


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
    """`open_page(path, logged_in=True, viewport=DESKTOP, token=owner's)`: a page in a fresh
    context, signed in with the session `token`; the test fails on any uncaught script
    error."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def open_(
        path: str,
        *,
        logged_in: bool = True,
        viewport: dict[str, int] = DESKTOP,
        token: str | None = None,
    ) -> Page:
        context = chromium.new_context(viewport=viewport)  # type: ignore[arg-type]
        if logged_in:
            context.add_cookies(
                [
                    {
                        "name": "jt_session",
                        "value": token or demo_server.seeded.owner_token,
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
    shot(page, ARTIFACTS / f"{name}.png")


if __name__ == "__main__":  # start_demo_data's process: python -m tests.web.dashboard_world DIR
    try:
        make_demo_data(Path(sys.argv[1]))
    except BaseException:
        (Path(sys.argv[1]) / "failed").write_text(traceback.format_exc())
        raise
