"""Form problems raised by the domain code in English and shown translated by the web
layer: the message is a catalog msgid (marked with `gettext_noop` where it is written), its
`{placeholders}` filled from params only when it is shown, so the whole sentence is
translated, not the English one with values in it."""

from __future__ import annotations

from typing import Any

from jetrack.i18n.catalogs import gettext


class Problem(str):
    """A problem's English text (what logs, the CLI and the JSON APIs show), carrying its
    msgid and params for `translated`."""

    message: str
    params: dict[str, Any]

    def __new__(cls, message: str, **params: Any) -> Problem:
        made = super().__new__(cls, message.format(**params) if params else message)
        made.message, made.params = message, params
        return made


def translated(text: str) -> str:
    """`text` in the current language if it is a Problem (and so are the Problems among
    its params); as it is otherwise."""
    if isinstance(text, Problem):
        params = {
            name: translated(v) if isinstance(v, str) else v for name, v in text.params.items()
        }
        return gettext(text.message, **params)
    return text


def translated_errors(errors: dict[str, Any]) -> dict[str, Any]:
    """A form's field -> problem map with each Problem translated."""
    return {
        field: translated(text) if isinstance(text, str) else text for field, text in errors.items()
    }


class FieldError(ValueError):
    """Input that cannot be saved: `field` names the bad field and `problem` says what is
    wrong (str(exc) is the English text)."""

    def __init__(self, field: str, message: str, **params: Any) -> None:
        self.problem = Problem(message, **params)
        super().__init__(str(self.problem))
        self.field = field

    def translated(self) -> str:
        return translated(self.problem)
