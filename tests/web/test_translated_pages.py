"""Every server page an owner, a guest and a logged-out visitor can open shows no text
without a translation: rendered in a pseudo-language that brackets each translated
message (tests/i18n/pseudo.py), a visible text node outside the brackets is a string that
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
from jetrack.store.models import SharedLink, User
from jetrack.store.stores import Stores
from tests.i18n.pseudo import PSEUDO, pseudo_translations, unmarked
from tests.web import world as w

# The GET pages of each visitor, {domain}/{team_id}/{slug} filled from the world.
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
    "/teams/{team_id}",
]
GUEST_PAGES = ["/sites/{domain}/settings"]
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
]
# The head's only text is the title, checked on its own (it ends in the brand's name).
# Code is code in every language (snippets, attribute names, cookie names).
_SKIPPED = {"head", "script", "style", "noscript", "template", "code", "kbd", "pre"}
_VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _Texts(HTMLParser):
    """The visible text nodes outside `translate="no"` (unless set back to "yes" inside)
    and `lang="en"` elements."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []  # per open element: is its text exempt?
        self.texts: list[str] = []
        self.attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        inherited = bool(self.stack) and self.stack[-1]
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
            self.stack.append(exempt)

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]) and data.strip():
            self.texts.append(data.strip())


def untranslated(html: str) -> list[str]:
    parser = _Texts()
    parser.feed(html)
    return [left for text in parser.texts + parser.attributes if (left := unmarked(text))]


@pytest.fixture
def pseudo_client(settings: Settings, stores: Stores) -> Iterator[tuple[TestClient, w.World]]:
    add_language(pseudo_translations())
    world = w.build_world(stores)
    with stores.control.session() as session:
        session.add(
            SharedLink(site_id=world.site_id, slug="walked", name="walk", password_hash="x")
        )
    headers = {"Accept-Language": f"{PSEUDO}, en;q=0.5"}
    with TestClient(
        create_app(settings, stores), follow_redirects=False, headers=headers
    ) as client:
        yield client, world


def _walk(client: TestClient, world: w.World, pages: list[str]) -> dict[str, list[str]]:
    found = {}
    for template in pages:
        path = template.format(domain=world.domain, team_id=world.team_id, slug="walked")
        response = client.get(path)
        # An unknown token's page explains itself with 400.
        assert response.status_code in (200, 400), (path, response.status_code)
        left = untranslated(response.text)
        if f'<html lang="{PSEUDO}"' not in response.text:
            left.append("<html lang> is not the page's language")
        if "<title>⟦" not in response.text:
            left.append("<title> is not translated")
        if left:
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
    pseudo_client: tuple[TestClient, w.World], role: str, pages: list[str]
) -> None:
    client, world = pseudo_client
    if role != "anonymous":
        client.cookies.set("jt_session", world.cookies[role])
    found = _walk(client, world, pages)
    assert found == {}, "\n".join(f"{path}: {texts}" for path, texts in found.items())


def test_the_saved_language_wins_over_the_browser(
    pseudo_client: tuple[TestClient, w.World], stores: Stores
) -> None:
    client, world = pseudo_client
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
