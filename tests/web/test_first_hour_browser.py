"""The first hour in Chromium, on a server without SMTP: sign up (ready at once), add a
site, read the snippet (copy button, no wrapping mid-tag, local testing explained), check
the installation (an answer in place, a blocked script named), share a link (a real link
with a copy button). Screenshots at 1440x900 and 390x844, light and dark, go to
test-artifacts/first-hour/."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, LiveServer
from tests.web.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts" / "first-hour"
VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


def _shots(browser: Any, base: str, state: Any, name: str, path: str) -> None:
    for label, viewport in VIEWPORTS.items():
        for scheme in ("light", "dark"):
            context = browser.new_context(
                viewport=viewport, color_scheme=scheme, storage_state=state
            )
            page = context.new_page()
            page.goto(base + path)
            page.screenshot(path=str(ARTIFACTS / f"{name}-{label}-{scheme}.png"), full_page=True)
            context.close()


def test_the_first_hour_in_chromium(
    live_server_factory: Callable[..., LiveServer], playwright_driver: Any
) -> None:
    server = live_server_factory()  # no JETRACK_SMTP_HOST
    base = server.url
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        context = browser.new_context(viewport=VIEWPORTS["desktop"])
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        page.goto(base + "/signup")
        page.fill("input[name=name]", "Ada")
        page.fill("input[name=email]", "ada@example.com")
        page.fill("input[name=password]", PASSWORD)
        page.check("input[name=age]")
        page.click("button:has-text('Create account')")
        page.wait_for_url(re.compile(r".*/sites\?notice=signed-up-without-mail"))
        assert page.is_visible("text=Your account is ready and you are logged in")

        page.goto(base + "/sites/new")
        page.fill("input[name=domain]", "example.com")
        page.click("button:has-text('Add site')")
        page.wait_for_url(re.compile(r".*/sites/example.com/settings.*"))
        assert page.is_visible("#local-testing")

        # The snippet stays one line (it scrolls), and its copy button copies it whole.
        snippet = page.locator("#snippet")
        text = snippet.inner_text()
        line = page.evaluate(
            "parseFloat(getComputedStyle(document.getElementById('snippet')).lineHeight)"
        )
        assert snippet.bounding_box()["height"] < 3 * line
        page.click("button[data-copy=snippet]")
        assert page.evaluate("navigator.clipboard.readText()") == text.strip()

        # Check installation: an answer in place, no reload.
        page.evaluate("window.stayed = true")
        page.click("#check-installation")
        page.wait_for_selector("#installation-status >> text=No event has arrived yet")
        assert page.evaluate("window.stayed") is True
        # A blocker in this browser is named rather than taken for a missing snippet.
        page.route("**/js/script.js", lambda route: route.abort())
        page.click("#check-installation")
        page.wait_for_selector("#installation-status >> text=did not load the Jetrack script")
        page.unroute("**/js/script.js")
        assert errors == ["Failed to load resource: net::ERR_FAILED"]  # the blocked one
        errors.clear()

        # Shared link: a real link, with a copy button.
        page.goto(base + "/sites/example.com/shared-links")
        page.fill("input[name=name]", "Investors")
        page.click("button:has-text('Create link')")
        link = page.locator("a.jt-share-url").first
        href = link.get_attribute("href")
        assert href and href.startswith(base + "/share/")
        page.locator("tr[data-link] button.jt-copy").first.click()
        assert page.evaluate("navigator.clipboard.readText()") == href

        assert page.request.get(base + "/favicon.ico").status == 200
        assert not errors, errors
        state = context.storage_state()
        context.close()
        for name, path in (
            ("sites", "/sites?notice=signed-up-without-mail"),
            ("settings", "/sites/example.com/settings"),
            ("shared-links", "/sites/example.com/shared-links"),
            ("privacy", "/privacy"),
        ):
            _shots(browser, base, state, name, path)
    finally:
        browser.close()
