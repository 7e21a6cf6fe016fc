"""The translation catalogs (locale/<lang>/LC_MESSAGES/messages.po, read once with Babel)
and the current language of a request, which `_()` and `ngettext()` translate into."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.catalog import Message as BabelMessage
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
SOURCE_LANGUAGE = "en"
# English first: it is the source language (the msgids) and the fallback.
LANGUAGES = ("en", "de", "fr", "es", "pt")
# Each language's own name, for the Account page's menu: Babel's (`language_names`, a test
# checks), written out because asking Babel at import loads every language's CLDR data
# (~8.7 MB a server would keep; a language's data is loaded when its plurals are first used).
LANGUAGE_NAMES = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "pt": "Português",
}


def language_names(codes: tuple[str, ...] = LANGUAGES) -> dict[str, str]:
    """Each language's own name, from Babel's locale data."""
    return {
        code: (Locale.parse(code).get_display_name(code) or code).capitalize() for code in codes
    }


# Messages whose source is under this folder are sent to the dashboard (Translations.for_frontend).
FRONTEND_SOURCE = "frontend/"

_current: ContextVar[str] = ContextVar("jetrack_language", default=SOURCE_LANGUAGE)


class Message(NamedTuple):
    """One translated message: its forms (one, or singular and plural) and whether the
    dashboard's code uses it."""

    forms: tuple[str, ...]
    frontend: bool


def po_path(language: str, directory: Path = LOCALE_DIR) -> Path:
    return directory / language / "LC_MESSAGES" / "messages.po"


def texts(message: BabelMessage) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A catalog message's ids (one, or singular and plural) and its translations."""

    def strings(value: object) -> tuple[str, ...]:
        items = value if isinstance(value, list | tuple) else (value,)
        return tuple(item if isinstance(item, str) else "" for item in items)

    return strings(message.id), strings(message.string)


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as source:
        return read_po(source)


class Translations:
    """A language's messages, keyed by msgid (a plural message by its singular)."""

    def __init__(self, language: str, messages: dict[str, Message]) -> None:
        self.language = language
        self.messages = messages
        # Whose plural rules apply: the language's, English's for a made-up one (a test's).
        try:
            self.locale = Locale.parse(language)
        except (ValueError, UnknownLocaleError):
            self.locale = Locale.parse(SOURCE_LANGUAGE)

    @classmethod
    def from_catalog(cls, language: str, catalog: Catalog) -> Translations:
        messages: dict[str, Message] = {}
        for message in catalog:
            ids, strings = texts(message)
            if not ids[0] or message.fuzzy or not all(strings):
                continue
            frontend = any(path.startswith(FRONTEND_SOURCE) for path, _ in message.locations)
            messages[ids[0]] = Message(tuple(strings), frontend)
        return cls(language, messages)

    def plural_form(self, forms: tuple[str, ...], n: float) -> str:
        """The form for `n` by CLDR's rule: "one", then "many" where the catalog has a
        third form (French, Spanish, Portuguese: millions), then "other" (the last)."""
        category = self.locale.plural_form(abs(n))
        if category == "one":
            return forms[0]
        if category == "many" and len(forms) > 2:
            return forms[1]
        return forms[-1]

    def gettext(self, msgid: str, **params: Any) -> str:
        found = self.messages.get(msgid)
        text = found.forms[0] if found is not None else msgid
        return text.format(**params) if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params: Any) -> str:
        found = self.messages.get(singular)
        if found is not None and len(found.forms) > 1:
            text = self.plural_form(found.forms, n)
        else:
            text = singular if n == 1 else plural
        return text.format(n=n, **params)

    def for_frontend(self) -> dict[str, list[str]]:
        """The dashboard's messages, for the JSON catalog embedded in its page."""
        return {msgid: list(m.forms) for msgid, m in self.messages.items() if m.frontend}


# Languages added while running (the tests' pseudo-language), besides the catalogs'.
_added: dict[str, Translations] = {}


def add_language(added: Translations) -> None:
    """Serve `added` as one more language (tests: a pseudo-language that marks every message)."""
    _added[added.language] = added


def available() -> tuple[str, ...]:
    return LANGUAGES + tuple(_added)


def translations(language: str) -> Translations:
    """A language's translations (English: none; an unknown language: English)."""
    return _added[language] if language in _added else _from_catalog(language)


@cache
def _from_catalog(language: str) -> Translations:
    if language not in LANGUAGES or language == SOURCE_LANGUAGE:
        return Translations(SOURCE_LANGUAGE, {})
    return Translations.from_catalog(language, read_catalog(po_path(language)))


def negotiate(saved: str | None, accept_language: str | None) -> str:
    """The account's saved language, else the browser's best supported one, else English."""
    if saved is not None and saved in available():
        return saved
    wanted = []
    for part in (accept_language or "").split(","):
        tag, _, quality = part.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            continue
        if tag and weight > 0:
            wanted.append((weight, tag.strip()))
    for _, tag in sorted(wanted, key=lambda pair: -pair[0]):
        base = tag.replace("_", "-").split("-")[0].lower()
        if base in available():
            return base
    return SOURCE_LANGUAGE


def current_language() -> str:
    return _current.get()


def current() -> Translations:
    return translations(_current.get())


@contextmanager
def language(code: str) -> Iterator[None]:
    """Translate into `code` inside the block (tests, rendering outside a request)."""
    token = _current.set(code)
    try:
        yield
    finally:
        _current.reset(token)


def set_language(code: str) -> None:
    """Translate into `code` for the rest of this request (its context, set by the web layer)."""
    _current.set(code)


def gettext(msgid: str, **params: Any) -> str:
    """`msgid` in the current language, `{name}` placeholders filled from `params`."""
    return current().gettext(msgid, **params)


def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    """The form for `n` in the current language; `{n}` and `params` filled in."""
    return current().ngettext(singular, plural, n, **params)


def gettext_noop(msgid: str) -> str:
    """Marks a message for extraction where it is translated later (a table of notices)."""
    return msgid


_ = gettext
