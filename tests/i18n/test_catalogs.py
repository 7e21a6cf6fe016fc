"""The catalogs: in step with the sources, every message translated into every language
with the same placeholders, and the language a request gets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from jetrack.i18n.catalogs import (
    FRONTEND_SOURCE,
    LANGUAGES,
    Translations,
    negotiate,
    po_path,
    read_catalog,
    texts,
    translations,
)
from jetrack.i18n.extract import template_catalog, typescript_messages, update_catalogs

TRANSLATED = [code for code in LANGUAGES if code != "en"]
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _ids(catalog: Catalog) -> set[str]:
    return {texts(m)[0][0] for m in catalog if m.id}


def _frontend_ids(catalog: Catalog) -> set[str]:
    return {
        texts(m)[0][0]
        for m in catalog
        if m.id and any(path.startswith(FRONTEND_SOURCE) for path, _ in m.locations)
    }


@pytest.fixture(scope="module")
def sources() -> Catalog:
    return template_catalog()


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_catalog_holds_exactly_the_messages_of_the_sources(
    sources: Catalog, language: str
) -> None:
    catalog = read_catalog(po_path(language))
    assert _ids(catalog) - _ids(sources) == set(), "no source uses these: run `make messages`"
    assert _ids(sources) - _ids(catalog) == set(), "new messages: run `make messages`"
    assert _frontend_ids(catalog) == _frontend_ids(sources), "run `make messages`"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_with_its_placeholders(language: str) -> None:
    problems = []
    catalog = read_catalog(po_path(language))
    for message in catalog:
        if not message.id:
            continue
        ids, strings = texts(message)
        forms = catalog.num_plurals if len(ids) > 1 else 1
        if message.fuzzy or not all(strings) or len(strings) != forms:
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        wanted = set(_PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            if set(_PLACEHOLDER.findall(text)) - {"n"} != wanted - {"n"}:
                problems.append(f"placeholders differ: {ids[0]!r} -> {text!r}")
            if (
                text[:1].isspace() != ids[0][:1].isspace()
                or text[-1:].isspace() != ids[0][-1:].isspace()
            ):
                problems.append(f"spaces at the ends differ: {ids[0]!r} -> {text!r}")
    assert problems == []


def test_make_messages_keeps_translations_and_adds_new_messages_empty(tmp_path: Path) -> None:
    update_catalogs(directory=tmp_path)  # fresh catalogs: every message, none translated
    fresh = read_catalog(po_path("de", tmp_path))
    assert _ids(fresh) == _ids(read_catalog(po_path("de")))
    assert all(
        not any(m.string) if isinstance(m.string, tuple) else not m.string for m in fresh if m.id
    )
    shipped = po_path("fr").read_bytes()
    po_path("fr", tmp_path).write_bytes(shipped)
    update_catalogs(directory=tmp_path)
    assert po_path("fr", tmp_path).read_bytes() == shipped  # in step: nothing changes


@pytest.mark.parametrize(
    ("saved", "header", "expected"),
    [
        (None, None, "en"),
        (None, "de-DE,de;q=0.9,en;q=0.8", "de"),
        (None, "pt-BR", "pt"),
        (None, "ja, fr;q=0.5", "fr"),
        (None, "en;q=0.3, es;q=0.8", "es"),
        (None, "it, nl", "en"),
        (None, "fr;q=0, de;q=0.1", "de"),
        (None, "de;q=abc", "en"),
        ("fr", "de", "fr"),
        ("xx", "es", "es"),
    ],
)
def test_the_language_of_a_request(saved: str | None, header: str | None, expected: str) -> None:
    assert negotiate(saved, header) == expected


def test_translations_fill_placeholders_and_pick_plural_forms() -> None:
    german = translations("de")
    assert german.gettext("Step {n}", n=3) == "Schritt 3"
    assert german.ngettext("{count} event", "{count} events", 1, count="1") == "1 Ereignis"
    assert german.ngettext("{count} event", "{count} events", 2, count="2") == "2 Ereignisse"
    # French counts 0 as singular; English, German, Spanish do not.
    assert translations("fr").ngettext("visitor", "visitors", 0) == "visiteur"
    assert translations("es").ngettext("visitor", "visitors", 0) == "visitantes"
    assert translations("en").gettext("Step {n}", n=3) == "Step 3"
    assert german.gettext("not a message") == "not a message"


def test_the_dashboard_gets_only_its_own_messages() -> None:
    sent = translations("pt").for_frontend()
    assert sent["Unique visitors"] == ["Visitantes únicos"]
    assert sent["current visitor"] == ["visitante atual", "visitantes atuais", "visitantes atuais"]
    assert "Save name" not in sent  # the Account page's, not the dashboard's
    assert Translations("en", {}).for_frontend() == {}


def test_typescript_messages_are_found() -> None:
    source = """
      t('Save') + t("It's {n}", { n }) + tx('See {link}', { link })
      tn('{n} visitor', '{n} visitors', count) + format('x') + it('no')
    """
    assert list(typescript_messages(source)) == [
        "Save",
        "It's {n}",
        "See {link}",
        ("{n} visitor", "{n} visitors"),
    ]


def test_the_language_names_are_babels() -> None:
    """The Account page's names are written out (asking Babel at import loaded every
    language's locale data into every server): they are Babel's, for every language."""
    from jetrack.i18n.catalogs import LANGUAGE_NAMES, LANGUAGES, language_names

    assert tuple(LANGUAGE_NAMES) == LANGUAGES
    assert language_names() == LANGUAGE_NAMES
