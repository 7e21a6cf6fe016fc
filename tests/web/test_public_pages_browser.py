"""The public pages as a visitor sees them in Chromium: landing, policies with the
instance's facts, and the contact form filing a ticket and mailing the operator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from jetrack.store.models import Ticket
from jetrack.store.stores import open_stores
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer, make_settings
from tests.support import shots
from tests.support.shots import shot
from tests.web.conftest import Inbox

ARTIFACTS = shots.ARTIFACTS / "public"


@pytest.mark.browser
def test_public_pages_and_contact_form(
    live_server_factory: Callable[..., LiveServer], smtp: tuple[Inbox, int], playwright_driver: Any
) -> None:
    inbox, port = smtp
    server = live_server_factory(
        env={
            "JETRACK_SMTP_HOST": "127.0.0.1",
            "JETRACK_SMTP_PORT": str(port),
            "JETRACK_CONTACT_EMAIL": "dpo@jetrack-tests.example",
            "JETRACK_RETENTION_DAYS": "400",
        }
    )
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        page.goto(server.url + "/")
        assert "Privacy-first analytics for indie hackers and startups" in page.inner_text("h1")
        page.click("footer >> text=Privacy")
        policy = page.inner_text("main") if page.query_selector("main") else page.inner_text("body")
        assert "dpo@jetrack-tests.example" in policy
        assert "400 days" in policy
        assert "DB-IP" in policy
        shot(page, ARTIFACTS / "privacy-phone.png")
        page.click("footer >> text=Cookies")
        assert "jt_session" in page.inner_text("body")
        page.click("footer >> text=Contact")
        page.fill("input[name=email]", "reader@example.com")
        page.fill("input[name=subject]", "A question about my data")
        page.fill("textarea[name=message]", "Which data do you keep about my visits?")
        page.wait_for_timeout(3200)  # the form refuses what is sent faster than a person types
        page.click("button:has-text('Send')")
        page.wait_for_load_state()
        shot(page, ARTIFACTS / "contact-sent.png")
        assert "reader@example.com" not in page.url
    finally:
        browser.close()
    mails = inbox.to("dpo@jetrack-tests.example")
    assert mails and "A question about my data" in Inbox.text(mails[-1])
    server.stop()
    stores = open_stores(make_settings(server.data_dir))
    try:
        with stores.control.session() as session:
            tickets = session.scalars(select(Ticket)).all()
            assert [t.subject for t in tickets] == ["A question about my data"]
    finally:
        stores.close()
