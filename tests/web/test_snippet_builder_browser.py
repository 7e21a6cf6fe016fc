"""The snippet builder in Chromium against a real server: ticking boxes rewrites the snippet
to the variant with those extensions, the server serves that variant (200) with exactly
those features, the 404 and revenue boxes show the code they need, the copy button copies
the current snippet, and cookie mode is saved with the site's settings."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from jetrack.accounts.login_sessions import start_session
from jetrack.accounts.users import create_user
from jetrack.sites.sites import add_site
from jetrack.store.stores import Stores
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer
from tests.support import shots
from tests.support.shots import shot

pytestmark = [pytest.mark.browser, pytest.mark.server]

ARTIFACTS = shots.ARTIFACTS / "first-hour"
DOMAIN = "example.com"
# A piece of code each extension adds to the built script, and nothing else has.
MARKERS = {
    "hash": "hashchange",
    "outbound-links": "Outbound Link: Click",
    "file-downloads": "File Download",
    "form-submissions": "Form: Submission",
    "tagged-events": "(event|revenue)-",
    "404": "responseStatus",
    "cookie": "jt_id",
}
# Boxes ticked one after the other, and the script name expected after each.
STEPS = [
    ("outbound-links", "script.outbound-links.js"),
    ("file-downloads", "script.outbound-links.file-downloads.js"),
    ("hash", "script.hash.outbound-links.file-downloads.js"),
    ("form-submissions", "script.hash.outbound-links.file-downloads.form-submissions.js"),
    (
        "tagged-events",
        "script.hash.outbound-links.file-downloads.form-submissions.tagged-events.js",
    ),
    ("404", "script.hash.outbound-links.file-downloads.form-submissions.tagged-events.404.js"),
]


def _seed(tokens: dict[str, str]) -> Callable[[Stores], None]:
    def seed(stores: Stores) -> None:
        with stores.control.session() as session:
            owner = create_user(session, "ada@example.com", password="a long password")
            add_site(session, owner, DOMAIN)
            _, tokens["owner"] = start_session(session, owner)

    return seed


def _src(snippet: str) -> str:
    found = re.search(r' src="([^"]+)"', snippet)
    assert found, snippet
    return found.group(1)


def test_ticking_boxes_builds_the_served_variant(
    live_server_factory: Callable[..., LiveServer], playwright_driver: Any
) -> None:
    tokens: dict[str, str] = {}
    server = live_server_factory(_seed(tokens))
    base = server.url
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.add_cookies([{"name": "jt_session", "value": tokens["owner"], "url": base}])
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{base}/sites/{DOMAIN}/settings")
        snippet = page.locator("#snippet")
        assert _src(snippet.inner_text()) == f"{base}/js/script.js"
        assert page.locator("#snippet-404-box").is_hidden()

        chosen: set[str] = set()
        for extension, name in STEPS:
            page.locator(f"input[data-extension='{extension}']").check()
            chosen.add(extension)
            src = _src(snippet.inner_text())
            assert src == f"{base}/js/{name}"
            served = page.request.get(src)
            assert served.status == 200, src
            body = served.text()
            features = {ext for ext, marker in MARKERS.items() if marker in body}
            assert features == chosen, (name, features)

        # 404 pages: the tag for the 404 page carries data-404 and the same script.
        box = page.locator("#snippet-404-box")
        assert box.is_visible()
        not_found = page.locator("#snippet-404").inner_text()
        assert " data-404 " in not_found and _src(not_found) == _src(snippet.inner_text())
        # Revenue needs no other script; it shows the call to make.
        before = snippet.inner_text()
        page.get_by_text("Revenue", exact=True).click()
        assert snippet.inner_text() == before
        assert (
            "revenue: {amount: 29.90, currency: 'EUR'}"
            in page.locator("#snippet-revenue").inner_text()
        )
        # Unticking takes the extension out again.
        page.locator("input[data-extension='hash']").uncheck()
        assert "script.outbound-links." in snippet.inner_text()
        assert page.locator("#snippet-revenue-box").is_visible()

        # The copy button copies the snippet as it now reads.
        page.click("button[data-copy=snippet]")
        assert page.evaluate("navigator.clipboard.readText()") == snippet.inner_text().strip()

        # Cookie mode: the tag and the script change at once; the site's setting when saved.
        shot(page, ARTIFACTS / "snippet-builder.png")
        page.locator("input[data-extension='cookie']").check()
        assert ' data-cookie="1" ' in snippet.inner_text()
        assert _src(snippet.inner_text()).endswith(".404.cookie.js")
        unsaved = page.locator("#cookie-unsaved")
        assert unsaved.is_visible()
        unsaved.get_by_role("button", name="Save settings").click()
        page.wait_for_url(re.compile(r".*notice=saved"))
        assert page.locator("input[data-extension='cookie']").is_checked()
        assert page.locator("#cookie-unsaved").is_hidden()
        assert snippet.inner_text().endswith(
            f'data-cookie="1" src="{base}/js/script.cookie.js"></script>'
        )
        assert errors == [], errors
    finally:
        browser.close()
