"""The reports page and the mailed links: a member opts in, an admin adds an outside
address that must confirm (double opt-in), and unsubscribing works from the mail's link
(GET page, then its button) and from the RFC 8058 one-click POST."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx2
from sqlalchemy import select
from starlette.testclient import TestClient

from jetrack.jobs import runner
from jetrack.sites import webhooks
from jetrack.store.models import Job, ReportRecipient, Site, SpikeAlert
from jetrack.store.stores import Stores
from tests.conftest import Inbox
from tests.web.test_goals_page import as_role, post
from tests.web.world import World

REPORTS = "/sites/acme.example/reports"
MONDAY_0905_UTC = datetime(2026, 11, 30, 9, 5, tzinfo=UTC)


def rows(stores: Stores) -> list[tuple[str, str, bool]]:
    with stores.control.session() as session:
        found = session.scalars(select(ReportRecipient).order_by(ReportRecipient.id))
        return [(r.email, r.kind, r.confirmed_at is not None) for r in found]


def send_reports(stores: Stores) -> None:
    """Schedule Monday's reports and run them; the app's own job runner (the client's
    lifespan) may take some of the jobs: wait until none is left to run."""
    runner.schedule(stores, now=MONDAY_0905_UTC)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        runner.run_pending(stores, kinds=("reports", "report_mail"), now=MONDAY_0905_UTC)
        with stores.control.session() as session:
            busy = session.scalar(
                select(Job.id).where(
                    Job.kind.in_(("reports", "report_mail")), Job.state.in_(("queued", "running"))
                )
            )
        if busy is None:
            return
        time.sleep(0.1)
    raise AssertionError("report jobs still running after 30 s")


def test_a_viewer_opts_in_and_out_of_their_own_reports(
    client: TestClient, world: World, stores: Stores, inbox: Inbox
) -> None:
    csrf = as_role(client, world, "viewer")
    page = client.get(REPORTS)
    assert page.status_code == 200 and "Mail me" in page.text
    assert "Outside recipients" not in page.text  # a viewer manages no one
    saved = post(client, f"{REPORTS}/mine", csrf, week="on", alerts="on")
    assert saved.status_code == 303 and saved.headers["location"] == f"{REPORTS}?notice=saved"
    assert rows(stores) == [
        ("viewer@example.com", "week", True),
        ("viewer@example.com", "alerts", True),
    ]
    send_reports(stores)
    message = inbox.last_to("viewer@example.com")
    assert message["Subject"].startswith("Weekly report for acme.example, 23–29 Nov 2026:")
    assert "checked" in client.get(REPORTS).text
    post(client, f"{REPORTS}/mine", csrf, alerts="on")
    assert rows(stores) == [("viewer@example.com", "alerts", True)]


def test_an_outside_address_gets_nothing_before_it_confirms(
    client: TestClient, world: World, stores: Stores, inbox: Inbox
) -> None:
    csrf = as_role(client, world, "admin")
    added = post(client, f"{REPORTS}/recipients", csrf, email="cfo@client.example", kind="week")
    assert added.status_code == 303, added.text
    assert rows(stores) == [("cfo@client.example", "week", False)]
    confirmation = inbox.last_to("cfo@client.example")
    assert confirmation["Subject"] == "Confirm that you want Jetrack reports"
    assert "asked Jetrack to send the weekly report of acme.example to this address." in (
        inbox.text(confirmation)
    )
    send_reports(stores)
    assert len(inbox.to("cfo@client.example")) == 1  # the confirmation only

    link = inbox.link("cfo@client.example", "/reports/confirm")
    client.cookies.clear()  # the recipient has no account
    page = client.get(link)
    assert page.status_code == 200 and "Yes, send them" in page.text
    assert rows(stores) == [("cfo@client.example", "week", False)]  # a GET changes nothing
    token = link.split("token=")[1]
    confirmed = client.post("/reports/confirm", data={"token": token})
    assert confirmed.status_code == 200 and "from now on" in confirmed.text
    assert rows(stores) == [("cfo@client.example", "week", True)]
    send_reports(stores)
    assert inbox.last_to("cfo@client.example")["Subject"].startswith("Weekly report")


def _subscribed(client: TestClient, world: World, stores: Stores, inbox: Inbox) -> str:
    """The viewer's weekly report mail's List-Unsubscribe URL (path and query)."""
    csrf = as_role(client, world, "viewer")
    post(client, f"{REPORTS}/mine", csrf, week="on")
    send_reports(stores)
    header = str(inbox.last_to("viewer@example.com")["List-Unsubscribe"])
    assert header.startswith("<http://") and header.endswith(">")
    return "/" + header.strip("<>").split("/", 3)[3]


def test_one_click_unsubscribe_by_the_post_header(
    client: TestClient, world: World, stores: Stores, inbox: Inbox
) -> None:
    url = _subscribed(client, world, stores, inbox)
    client.cookies.clear()  # a mail provider's request: no cookie, no CSRF token
    answer = client.post(
        url,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200 and "no longer gets the weekly report" in answer.text
    assert rows(stores) == []
    again = client.post(url, content=b"List-Unsubscribe=One-Click")
    assert again.status_code == 404 and "does not work any more" in again.text


def test_unsubscribe_from_the_link_in_the_mail(
    client: TestClient, world: World, stores: Stores, inbox: Inbox
) -> None:
    _subscribed(client, world, stores, inbox)
    link = inbox.link("viewer@example.com", "/reports/unsubscribe")
    page = client.get(link)
    assert (
        page.status_code == 200 and "Stop sending <strong>the weekly report</strong>" in page.text
    )
    assert rows(stores) == [("viewer@example.com", "week", True)]
    token = link.split("token=")[1]
    done = post(client, "/reports/unsubscribe", world.csrf["viewer"], token=token)
    assert done.status_code == 200, done.text
    assert rows(stores) == []


def test_a_tampered_or_foreign_token_is_refused(
    client: TestClient, world: World, stores: Stores, inbox: Inbox
) -> None:
    url = _subscribed(client, world, stores, inbox)
    token = url.split("token=")[1]
    number, signature = token.split(".")
    client.cookies.clear()
    for bad in (f"{number}.{'0' * len(signature)}", f"{int(number) + 1}.{signature}", "", "x.y"):
        answer = client.post(f"/reports/unsubscribe?token={bad}")
        assert answer.status_code == 404, bad
        assert client.get(f"/reports/unsubscribe?token={bad}").status_code == 404
    # An unsubscribe token does not confirm, and the other way round.
    assert client.post(f"/reports/confirm?token={token}").status_code == 404
    assert rows(stores) == [("viewer@example.com", "week", True)]


def test_bad_recipients_are_refused_naming_the_field(
    client: TestClient, world: World, stores: Stores
) -> None:
    csrf = as_role(client, world, "owner")
    cases = [
        ({"email": "not an address", "kind": "week"}, "an address such as name@example.com"),
        ({"email": "a@b.example", "kind": "daily"}, "one of week, month, alerts"),
    ]
    for data, message in cases:
        answer: httpx2.Response = post(client, f"{REPORTS}/recipients", csrf, **data)
        assert answer.status_code == 400 and message in answer.text, answer.text
    post(client, f"{REPORTS}/recipients", csrf, email="a@b.example", kind="week")
    twice = post(client, f"{REPORTS}/recipients", csrf, email="a@b.example", kind="week")
    assert twice.status_code == 400 and "already gets the weekly report" in twice.text
    assert rows(stores) == [("a@b.example", "week", False)]


def test_an_admin_removes_an_outside_address(
    client: TestClient, world: World, stores: Stores
) -> None:
    csrf = as_role(client, world, "owner")
    post(client, f"{REPORTS}/recipients", csrf, email="a@b.example", kind="month")
    with stores.control.session() as session:
        recipient_id = session.scalars(select(ReportRecipient.id)).one()
    removed = post(client, f"{REPORTS}/recipients/{recipient_id}/remove", csrf)
    assert removed.status_code == 303
    assert rows(stores) == []


def test_an_editor_sets_and_clears_the_spike_alert(
    client: TestClient, world: World, stores: Stores
) -> None:
    def setting() -> tuple[int, int] | None:
        with stores.control.session() as session:
            row = session.get(SpikeAlert, world.site_id)
            return (row.threshold, row.every_hours) if row else None

    csrf = as_role(client, world, "guest_editor")
    assert "Traffic spike alert" in client.get(REPORTS).text
    saved = post(client, f"{REPORTS}/spike", csrf, spike_threshold="50", spike_every_hours="12")
    assert saved.status_code == 303 and setting() == (50, 12)
    assert 'value="50"' in client.get(REPORTS).text
    bad = post(client, f"{REPORTS}/spike", csrf, spike_threshold="50", spike_every_hours="0")
    assert bad.status_code == 400 and "a whole number of hours, 1 to 168" in bad.text
    assert setting() == (50, 12)
    post(client, f"{REPORTS}/spike", csrf, spike_threshold="", spike_every_hours="6")
    assert setting() is None
    as_role(client, world, "viewer")
    assert "Traffic spike alert" not in client.get(REPORTS).text


def test_a_webhook_secret_is_shown_only_when_asked(
    client: TestClient, world: World, stores: Stores
) -> None:
    """An admin sees each webhook's signing secret behind a "Show the secret" disclosure,
    not in the page's visible text (a shared screen does not leak it)."""
    with stores.control.session() as session:
        site = session.scalars(select(Site).where(Site.domain == "acme.example")).one()
        secret = webhooks.add_webhook(
            session, site, "http://127.0.0.1:9/in", "json", {"week"}, True
        ).secret
    as_role(client, world, "owner")
    page = client.get(REPORTS).text
    shown = (
        '<details><summary class="jt-small">Show the secret</summary>'
        f'<code class="jt-break">{secret}</code></details>'
    )
    assert page.count(secret) == 1 and shown in page
