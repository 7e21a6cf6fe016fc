"""An import's failure message, stored in English, shown in the reader's language: every
template of jetrack.imports.messages found again from its English text, its values
(file names, cells read) kept; an unexpected error keeps its text behind a translated lead."""

from __future__ import annotations

from jetrack.i18n.catalogs import language, translations
from jetrack.imports import messages
from jetrack.imports.context import ImportRefused


def test_every_refusal_is_translated_from_its_stored_text() -> None:
    for message in messages.MESSAGES:
        names = messages._PLACEHOLDER.findall(message)
        params = {name: f"<{name} 7>" for name in names}
        stored = str(ImportRefused(message, **params))
        for code in ("de", "fr"):
            wanted = translations(code).gettext(message, **params)
            with language(code):
                assert messages.translated(stored) == wanted, (code, message)
            assert wanted != stored, (code, message)  # translated, not English
    stored = "imported_visitors_20240301_20240303.csv line 2, visitors: 'lots' is not a number"
    with language("de"):
        assert messages.translated(stored) == (
            "imported_visitors_20240301_20240303.csv Zeile 2, visitors: 'lots' ist keine Zahl"
        )
        assert messages.translated("ValueError: boom") == (
            "Der Import wurde durch einen unerwarteten Fehler abgebrochen: ValueError: boom"
        )
        assert messages.translated("") == ""
    assert messages.translated("ValueError: boom").endswith(": ValueError: boom")
