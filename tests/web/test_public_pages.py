"""Public pages: landing, a privacy policy whose facts follow the settings, and contact and
support forms that file tickets, mail the operator and resist floods and bots."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from jetrack.enrich.geo import GEO_ATTRIBUTION
from jetrack.privacy.policy import COLLECTED_FIELDS
from jetrack.store.models import Site, Ticket
from jetrack.store.stores import Stores
from tests.conftest import row
from tests.privacy.helpers import make_account
from tests.web.conftest import Inbox
from tests.web.logins import aged_start, app_client, login


def _page(stores: Stores, path: str) -> str:
    with app_client(stores) as client:
        response = client.get(path)
        assert response.status_code == 200, response.text
        return response.text


def test_landing_and_about(open_with: Callable[..., Stores]) -> None:
    stores = open_with(contact_email="hello@jetrack.example")
    assert "Privacy-first analytics for indie hackers and startups" in _page(stores, "/welcome")
    about = _page(stores, "/about")
    assert "hello@jetrack.example" in about and 'href="/contact"' in about
    assert 'href="/static/css/jetrack.css"' in about  # one look with the dashboard


@pytest.mark.parametrize(
    ("overrides", "expected", "absent"),
    [
        (
            {"retention_days": 183, "contact_email": "dpo@first.example"},
            ["<strong>183 days</strong>", "dpo@first.example"],
            ["dpo@second.example", "until the site owner deletes it"],
        ),
        (
            {"retention_days": 0, "contact_email": "dpo@second.example", "erasure_grace_days": 3},
            ["until the site owner deletes it", "dpo@second.example", "after 3 days"],
            ["dpo@first.example", "183 days"],
        ),
    ],
)
def test_the_privacy_policy_states_the_settings(
    open_with: Callable[..., Stores],
    overrides: dict[str, Any],
    expected: list[str],
    absent: list[str],
) -> None:
    stores = open_with(**overrides)
    text = _page(stores, "/privacy")
    for fact in expected:
        assert fact in text
    for fact in absent:
        assert fact not in text
    assert GEO_ATTRIBUTION.split(" (")[0] in text
    assert "never stores your IP address" in text and "at least 13" in text
    assert "no site on this instance uses it" in text


def test_the_policy_follows_per_site_settings(open_with: Callable[..., Stores]) -> None:
    stores = open_with(retention_days=30)
    _, (one, two) = make_account(stores, "o@example.com", "a.example", "b.example")
    with stores.control.session() as session:
        row(session, Site, one).retention_days = 90
        row(session, Site, two).retention_days = 400
        row(session, Site, two).cookie_mode = True
    text = _page(stores, "/privacy")
    assert "2 sites have their own period, from 90 to 400 days" in text
    assert "some sites on this instance use it" in text
    assert "b.example" not in text  # which sites use cookies is not published


def test_every_event_column_is_described_in_the_policy(open_with: Callable[..., Stores]) -> None:
    stores = open_with()
    result = stores.events.query(
        "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'events'"
    )
    assert sorted(str(row[0]) for row in result.rows) == sorted(COLLECTED_FIELDS)


def _message(**extra: str) -> dict[str, str]:
    return {
        "name": "Grace",
        "email": "grace@example.com",
        "subject": "Question",
        "message": "How do I export my data?",
        **extra,
    }


@pytest.mark.parametrize("kind", ["contact", "support"])
def test_a_message_files_a_ticket_and_mails_the_operator(
    open_with: Callable[..., Stores], smtp: tuple[Inbox, int], kind: str
) -> None:
    inbox, port = smtp
    stores = open_with(smtp_host="127.0.0.1", smtp_port=port, contact_email="ops@example.com")
    with app_client(stores) as client:
        form = client.get(f"/{kind}")
        assert form.status_code == 200 and 'name="website"' in form.text
        response = client.post(f"/{kind}", data=_message(started=aged_start(stores)))
        assert response.status_code == 200 and "Message sent" in response.text
    with stores.control.session() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert (ticket.kind, ticket.email, ticket.subject) == (
            kind,
            "grace@example.com",
            "Question",
        )
    mail = inbox.last_to("ops@example.com")
    assert f"ticket #{ticket.id}" in Inbox.text(mail) and "grace@example.com" in Inbox.text(mail)


@pytest.mark.parametrize(
    "trap",
    [
        {"website": "http://spam.example"},  # the honeypot
        {"started": "FRESH"},  # sent faster than a person types
        {"started": "1700000000.forged"},
        {"started": ""},
    ],
)
def test_bots_get_the_same_answer_and_file_nothing(
    open_with: Callable[..., Stores], trap: dict[str, str]
) -> None:
    stores = open_with()
    with app_client(stores) as client:
        fields = _message(started=aged_start(stores))
        if trap.get("started") == "FRESH":
            trap = {"started": aged_start(stores, seconds=0)}
        response = client.post("/contact", data={**fields, **trap})
        assert response.status_code == 200 and "Message sent" in response.text
    with stores.control.session() as session:
        assert session.scalars(select(Ticket)).all() == []


def test_a_flood_is_throttled(open_with: Callable[..., Stores]) -> None:
    stores = open_with()
    statuses = []
    with app_client(stores) as client:
        for index in range(7):  # one client, different addresses: 5 an hour per client
            data = _message(email=f"p{index}@example.com", started=aged_start(stores))
            statuses.append(client.post("/contact", data=data).status_code)
        assert statuses == [200] * 5 + [429, 429]
    with stores.control.session() as session:
        assert len(session.scalars(select(Ticket)).all()) == 5


def test_one_address_is_throttled_across_clients(open_with: Callable[..., Stores]) -> None:
    stores = open_with()
    statuses = []
    with app_client(stores) as client:
        for index in range(4):
            headers = {"X-Forwarded-For": f"81.2.69.{index}"}  # not believed: no trusted proxy
            data = _message(started=aged_start(stores))
            statuses.append(client.post("/support", data=data, headers=headers).status_code)
    assert statuses == [200, 200, 200, 429]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "not-an-address"}, "must be an email address"),
        ({"subject": ""}, "say in a few words"),
        ({"message": "short"}, "at least 10 characters"),
    ],
)
def test_bad_fields_are_named(
    open_with: Callable[..., Stores], data: dict[str, str], field: str
) -> None:
    stores = open_with()
    with app_client(stores) as client:
        response = client.post("/contact", data=_message(started=aged_start(stores), **data))
    assert response.status_code == 400
    assert field in response.text


def test_no_input_produces_a_500(open_with: Callable[..., Stores]) -> None:
    stores = open_with()
    user_id, _ = make_account(stores, "o@example.com", "a.example")
    session = login(stores, user_id)
    with app_client(stores) as client:
        bodies: list[dict[str, Any]] = [
            {
                "content": b"\xff\xfe\x00garbage",
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
            {"content": b"--x\r\n", "headers": {"Content-Type": "multipart/form-data; boundary=x"}},
            {"data": {"message": "x" * 100_000, "email": "a" * 5000}},
            {"json": [1, 2, 3]},
        ]
        for body in bodies:
            for path in ("/contact", "/support"):
                assert client.post(path, **body).status_code < 500
        session.use(client)
        for body in bodies:
            for path in ("/contact", "/account/privacy/export", "/account/privacy/restriction"):
                assert client.post(path, **body).status_code < 500
        for path in (
            "/exports/" + "x" * 5000,
            "/account/erasure/undo?request=abc&sig=zz",
            "/account/erasure/undo",
        ):
            assert client.get(path).status_code == 404


def test_the_policy_says_each_fact_once_and_has_a_ccpa_section(
    open_with: Callable[..., Stores],
) -> None:
    text = _page(open_with(erasure_grace_days=1), "/privacy")
    assert text.count("the browser and its version") == 1
    assert text.count("a purchase amount and currency") == 1
    assert "after 1 day," in text and "day(s)" not in text and "site(s)" not in text
    # No billing on a self-hosted instance: no invoices kept, none promised.
    assert "invoice" not in text.replace("keeps no invoices", "")
    ccpa = text[text.index('id="ccpa"') :]
    for right in ("Right to know", "Right to delete", "opt out of the sale", "Non-discrimination"):
        assert right in ccpa
    assert "do not sell personal information" in ccpa


def test_public_pages_have_one_footer_and_a_favicon(open_with: Callable[..., Stores]) -> None:
    stores = open_with()
    for path in ("/welcome", "/about", "/contact", "/privacy"):
        page = _page(stores, path)
        # One row of links: the page footer's, no second list of the same links above it.
        assert page.count('href="/about"') == 1, path
    with app_client(stores) as client:
        icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg")
