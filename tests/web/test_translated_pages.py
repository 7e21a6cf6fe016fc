"""Every server page an owner, a guest and a logged-out visitor can open shows no text
without a translation: rendered in a pseudo-language that brackets each translated
message (tests/i18n/pseudo.py), visible text outside the brackets is a string that
skipped `_()`. Data (names, domains, addresses, codes) sits in `translate="no"` elements,
and what stays English on purpose in `lang="en"` ones (docs/translations.md); code
elements are code in every language."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from starlette.testclient import TestClient

from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.i18n.catalogs import add_language
from jetrack.sites.report_recipients import link_token
from jetrack.store.models import (
    ReportRecipient,
    SharedLink,
    SpikeAlert,
    User,
    Webhook,
    WebhookDelivery,
    utcnow,
)
from jetrack.store.stores import Stores
from tests.i18n.pseudo import PSEUDO, pseudo_translations, unmarked
from tests.web import world as w

# The GET pages of each visitor, {domain}/{team_id}/{slug} filled from the world, {confirm}
# and {unsubscribe} with the tokens of the mailed links of the site's outside recipients.
SIGNED_IN_PAGES = [
    "/sites",
    "/sites/new",
    "/account",
    "/account/sessions",
    "/account/2fa",
    "/account/api-keys",
    "/account/delete",
    "/account/privacy",
    "/teams",
]
OWNER_PAGES = [
    "/sites/{domain}/settings",
    "/sites/{domain}/delete",
    "/sites/{domain}/access",
    "/sites/{domain}/shared-links",
    "/sites/{domain}/reports",
    "/teams/{team_id}",
]
GUEST_PAGES = ["/sites/{domain}/settings", "/sites/{domain}/reports"]
PUBLIC_PAGES = [
    "/login",
    "/signup",
    "/forgot-password",
    "/reset-password?token=unknown",
    "/verify-email?token=unknown",
    "/welcome",
    "/about",
    "/contact",
    "/support",
    "/cookies",
    "/privacy",
    "/share/{slug}/password",
    "/invitations/unknown",
    "/reports/confirm?token={confirm}",
    "/reports/unsubscribe?token={unsubscribe}",
    "/reports/unsubscribe?token=unknown",
]
# The head's only text is the title, checked on its own (it ends in the brand's name).
# Code is code in every language (snippets, attribute names, cookie names).
_SKIPPED = {"head", "script", "style", "noscript", "template", "code", "kbd", "pre"}
_VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _Texts(HTMLParser):
    """The visible text of each element outside `translate="no"` (unless set back to "yes"
    inside) and `lang="en"` elements, and its labelling attributes. An element's own text
    is checked as one run around its children, as a message may hold an element:
    `⟦Send <strong>⟦the weekly report⟧</strong> to …⟧`."""

    def __init__(self) -> None:
        super().__init__()
        # per open element: is its text exempt, and its own text so far
        self.stack: list[tuple[bool, list[str]]] = []
        self.texts: list[str] = []
        self.attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        inherited = bool(self.stack) and self.stack[-1][0]
        exempt = (
            (inherited and found.get("translate") != "yes")
            or tag in _SKIPPED
            or found.get("translate") == "no"
            or found.get("lang") == "en"
            or "hidden" in found
        )
        if not exempt:
            for name in ("aria-label", "title", "placeholder", "alt"):
                if found.get(name):
                    self.attributes.append(found[name] or "")
        if tag not in _VOID:
            self.stack.append((exempt, []))

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self.stack:
            self._done(self.stack.pop()[1])

    def handle_data(self, data: str) -> None:
        if not self.stack:
            self._done([data])
        elif not self.stack[-1][0]:
            self.stack[-1][1].append(data)

    def close(self) -> None:
        super().close()
        while self.stack:
            self._done(self.stack.pop()[1])

    def _done(self, parts: list[str]) -> None:
        if text := " ".join("".join(parts).split()):
            self.texts.append(text)


def untranslated(html: str) -> list[str]:
    parser = _Texts()
    parser.feed(html)
    parser.close()
    return [left for text in parser.texts + parser.attributes if (left := unmarked(text))]


def _with_reports(stores: Stores, world: w.World) -> dict[str, str]:
    """Every part of the reports page filled (outside recipients waiting and confirmed, a
    webhook with a failed delivery, the spike alert); the tokens of the mailed links."""
    site_id = world.site_id
    with stores.control.session() as session:
        waiting = ReportRecipient(site_id=site_id, email="cfo@client.example", kind="week")
        confirmed = ReportRecipient(
            site_id=site_id, email="ceo@client.example", kind="alerts", confirmed_at=utcnow()
        )
        hook = Webhook(
            site_id=site_id, url="https://hooks.example/in", format="slack",
            kinds=["week", "alerts"], secret="0" * 64,
        )  # fmt: skip
        session.add_all([waiting, confirmed, hook, SpikeAlert(site_id=site_id, threshold=50)])
        session.flush()
        session.add(
            WebhookDelivery(
                webhook_id=hook.id, event="report.week", state="failed", attempts=3,
                error="ConnectError",
            )
        )  # fmt: skip
        return {
            "confirm": link_token(session, "confirm", waiting),
            "unsubscribe": link_token(session, "unsubscribe", confirmed),
        }


@pytest.fixture
def pseudo_client(
    settings: Settings, stores: Stores
) -> Iterator[tuple[TestClient, w.World, dict[str, str]]]:
    add_language(pseudo_translations())
    world = w.build_world(stores)
    with stores.control.session() as session:
        session.add(
            SharedLink(site_id=world.site_id, slug="walked", name="walk", password_hash="x")
        )
    tokens = _with_reports(stores, world)
    headers = {"Accept-Language": f"{PSEUDO}, en;q=0.5"}
    with TestClient(
        create_app(settings, stores), follow_redirects=False, headers=headers
    ) as client:
        yield client, world, tokens


def _problems(html: str) -> list[str]:
    left = untranslated(html)
    if f'<html lang="{PSEUDO}"' not in html:
        left.append("<html lang> is not the page's language")
    if "<title>⟦" not in html:
        left.append("<title> is not translated")
    return left


def _walk(
    client: TestClient, world: w.World, tokens: dict[str, str], pages: list[str]
) -> dict[str, list[str]]:
    found = {}
    for template in pages:
        path = template.format(domain=world.domain, team_id=world.team_id, slug="walked", **tokens)
        response = client.get(path)
        # An unknown token's page explains itself with 400 (a mailed report link: 404).
        assert response.status_code in (200, 400, 404), (path, response.status_code)
        if left := _problems(response.text):
            found[path] = left
    return found


@pytest.mark.parametrize(
    ("role", "pages"),
    [
        ("owner", SIGNED_IN_PAGES + OWNER_PAGES),
        ("guest_editor", SIGNED_IN_PAGES + GUEST_PAGES),
        ("anonymous", PUBLIC_PAGES),
    ],
)
def test_every_page_shows_only_translated_text(
    pseudo_client: tuple[TestClient, w.World, dict[str, str]], role: str, pages: list[str]
) -> None:
    client, world, tokens = pseudo_client
    if role != "anonymous":
        client.cookies.set("jt_session", world.cookies[role])
    found = _walk(client, world, tokens, pages)
    assert found == {}, "\n".join(f"{path}: {texts}" for path, texts in found.items())


def test_the_reports_pages_answers_are_translated(
    pseudo_client: tuple[TestClient, w.World, dict[str, str]],
) -> None:
    """The reports page with each kind of form error, and the pages the mailed links answer."""
    client, world, tokens = pseudo_client
    client.cookies.set("jt_session", world.cookies["owner"])
    reports = f"/sites/{world.domain}/reports"
    posts = [
        (f"{reports}/recipients", {"email": "not an address", "kind": "week"}, 400),
        (f"{reports}/recipients", {"email": "cfo@client.example", "kind": "week"}, 400),
        (f"{reports}/spike", {"spike_threshold": "50", "spike_every_hours": "0"}, 400),
        (f"{reports}/webhooks", {"url": "ftp://files.example/x", "format": "json"}, 400),
        (f"{reports}/webhooks", {"url": "http://127.0.0.1/x", "hook_week": "on"}, 400),
        ("/reports/confirm", {"token": tokens["confirm"]}, 200),
        ("/reports/unsubscribe", {"token": tokens["unsubscribe"]}, 200),
        ("/reports/unsubscribe", {"token": tokens["unsubscribe"]}, 404),  # used: removed
    ]
    found = {}
    for path, data, status in posts:
        answer = client.post(path, data={"csrf_token": world.csrf["owner"], **data})
        assert answer.status_code == status, (path, data, answer.status_code)
        if status == 400:
            assert 'class="jt-error"' in answer.text, (path, data)
        if left := _problems(answer.text):
            found[f"POST {path} {data}"] = left
    assert found == {}, "\n".join(f"{path}: {texts}" for path, texts in found.items())


def test_form_errors_are_translated(
    pseudo_client: tuple[TestClient, w.World, dict[str, str]],
) -> None:
    """A form error from the domain code (sites, settings and shields, goals, funnels,
    shared links, teams, account, sign-up, contact) is shown in the page's language: each
    post answers 400 with the error, and no text of the page is left untranslated."""
    client, world, _ = pseudo_client
    site = f"/sites/{world.domain}"
    owner_posts = [
        ("/sites/new", {"domain": "not a domain", "timezone": "Mars/Base", "name": "x"}),
        (f"{site}/settings", {"name": "x", "timezone": "UTC", "blocked_ips": "999.1.1.1"}),
        (f"{site}/settings", {"name": "x" * 201, "timezone": "Nowhere/Town"}),
        (f"{site}/goals", {"goal_type": "page", "page_path": "no-slash"}),
        (f"{site}/goals", {"goal_type": "event", "event_name": "pageview"}),
        (f"{site}/goals", {"goal_type": "event", "event_name": "Signup"}),
        (f"{site}/funnels", {"funnel_name": "", "steps": ""}),
        (f"{site}/shared-links", {"name": ""}),
        (f"{site}/shared-links", {"name": "ok", "embed_origins": "not an origin"}),
        (f"{site}/delete", {"confirm": "wrong.example"}),
        (f"/teams/{world.team_id}/settings", {"name": ""}),
        ("/account/name", {"name": ""}),
        ("/account/password", {"current_password": "wrong", "new_password": "short"}),
    ]
    public_posts = [
        ("/signup", {"name": "", "email": "nobody", "password": "short"}),
    ]
    client.cookies.set("jt_session", world.cookies["owner"])
    for goal in (
        {"goal_type": "page", "page_path": "/pricing"},
        {"goal_type": "event", "event_name": "Signup"},
    ):
        added = client.post(f"{site}/goals", data={"csrf_token": world.csrf["owner"], **goal})
        assert added.status_code == 303  # two goals: the funnel form is shown
    found = {}
    for cookie, posts in (("owner", owner_posts), (None, public_posts)):
        client.cookies.clear()
        if cookie:
            client.cookies.set("jt_session", world.cookies[cookie])
        csrf = world.csrf["owner"] if cookie else ""
        for path, data in posts:
            answer = client.post(path, data={"csrf_token": csrf, **data})
            assert answer.status_code == 400, (path, data, answer.status_code)
            assert "jt-error" in answer.text or "jt-alert-error" in answer.text, (path, data)
            if left := _problems(answer.text):
                found[f"POST {path} {data}"] = left
    assert found == {}, "\n".join(f"{path}: {texts}" for path, texts in found.items())
    # The dashboard's own APIs answer its forms (segments, notes) in its language too.
    client.cookies.set("jt_session", world.cookies["owner"])
    headers = {"X-CSRF-Token": world.csrf["owner"]}
    api = f"/api/dashboard/{world.domain}"
    for path, body in (
        (
            f"{api}/segments",
            {"name": " ", "type": "personal", "filters": [["is", "visit:country", ["DE"]]]},
        ),
        (f"{api}/annotations", {"date": "2026-03-14", "text": "   "}),
    ):
        refused = client.post(path, json=body, headers=headers)
        assert refused.status_code == 400, (path, refused.text)
        assert unmarked(refused.json()["error"].partition(": ")[2]) == "", refused.text


def test_the_operator_console_is_translated(
    pseudo_client: tuple[TestClient, w.World, dict[str, str]], stores: Stores
) -> None:
    """Every page of /admin for an instance admin: its users, sites, jobs and audit rows
    (audit details and job errors stay English, marked lang="en")."""
    client, world, _ = pseudo_client
    with stores.control.session() as session:
        owner = session.get(User, world.users["owner"])
        assert owner is not None
        owner.is_admin = True
    client.cookies.set("jt_session", world.cookies["owner"])
    pages = ["/admin", "/admin/users", "/admin/sites", "/admin/tickets", "/admin/jobs"]
    found = {path: left for path in pages if (left := _problems(client.get(path).text))}
    assert found == {}, "\n".join(f"{path}: {texts}" for path, texts in found.items())
    assert world.domain in client.get("/admin/sites").text


def test_the_saved_language_wins_over_the_browser(
    pseudo_client: tuple[TestClient, w.World, dict[str, str]], stores: Stores
) -> None:
    client, world, _ = pseudo_client
    client.cookies.set("jt_session", world.cookies["owner"])
    with stores.control.session() as session:
        user = session.get(User, world.users["owner"])
        assert user is not None
        user.locale = "de"
    page = client.get("/account")
    assert '<html lang="de"' in page.text
    assert ">Konto</h1>" in page.text


def test_the_check_sees_a_string_without_translation() -> None:
    html = '<p>⟦Saved.⟧</p><p translate="no">acme.example</p><p>Not marked</p><b title="Hi">⟦x⟧</b>'
    assert untranslated(html) == ["Not marked", "Hi"]
    around = '<p>⟦Send <b>⟦it⟧</b> to <span translate="no">a@b.example</span>?⟧ Not marked</p>'
    assert untranslated(around) == ["Not marked"]
