"""The messages an import fails with (ImportRefused): English templates with `{name}`
placeholders, marked for the catalogs. The control store keeps a failed import's message
as English text (`site_imports.error`: the CLI and the logs show it as it is); the web
edge shows it in the reader's language with `translated`, which finds the template the
text was made from and translates that, the placeholders' values (file names, values
read from a file) kept as they are."""

from __future__ import annotations

import re
from functools import cache

from jetrack.i18n.catalogs import gettext, gettext_noop

NO_EXPORT_FILE = gettext_noop(
    "no Plausible export file found: expected a ZIP of imported_<table>_<YYYYMMDD>_"
    "<YYYYMMDD>.csv files (or one such file)"
)
NOT_A_DATE = gettext_noop("{file} line {line}, {column}: {value} is not a date (YYYY-MM-DD)")
NOT_A_NUMBER = gettext_noop("{file} line {line}, {column}: {value} is not a number")
NOT_A_COUNT = gettext_noop("{file} line {line}, {column}: {value} is not a count")
HEADER_LACKS = gettext_noop("{file}: the header lacks {columns}")
SHORT_LINE = gettext_noop("{file} line {line}: {cells} of {expected} cells")
TOO_MANY_ROWS = gettext_noop("{file}: too many rows")
FILE_GONE = gettext_noop("the export file is gone; upload it again")
NO_SUCH_FILE = gettext_noop("no such file: {files}")
NOT_GOATCOUNTER = gettext_noop(
    "not a GoatCounter CSV export of version {version} (its first column is {expected};"
    " found {found})"
)
BAD_FORMAT = gettext_noop("format must be one of {formats}")
NOT_A_UUID = gettext_noop("--website-id: {value} is not a UUID")
CANNOT_CONNECT = gettext_noop("cannot connect to the Umami database: {error}")
NO_WEBSITE = gettext_noop("--website-id: no website {website} in that database")
URL_NOT_STORED = gettext_noop(
    "the Umami database URL is not stored: run `jetrack import umami` again to resume"
)
NO_IMPORTER = gettext_noop("no importer for {kind}")
MESSAGES = (NO_EXPORT_FILE, NOT_A_DATE, NOT_A_NUMBER, NOT_A_COUNT, HEADER_LACKS, SHORT_LINE,
            TOO_MANY_ROWS, FILE_GONE, NO_SUCH_FILE, NOT_GOATCOUNTER, BAD_FORMAT, NOT_A_UUID,
            CANNOT_CONNECT, NO_WEBSITE, URL_NOT_STORED, NO_IMPORTER)  # fmt: skip
# An unexpected failure (a bug, an engine's error): its text, after a translated lead.
UNEXPECTED = gettext_noop("The import stopped on an unexpected error: {error}")

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def english(message: str, params: dict[str, object]) -> str:
    """The message as stored: the template with its placeholders filled."""
    return message.format(**params) if params else message


@cache
def _pattern(message: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER.split(message)
    # split: literal, name, literal, name, ..., literal
    regex = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>.*?)"
        for index, part in enumerate(parts)
    )
    return re.compile(regex, re.S)


def translated(text: str) -> str:
    """A stored failure message in the current language ('' stays '')."""
    if not text:
        return text
    for message in MESSAGES:
        found = _pattern(message).fullmatch(text)
        if found is not None:
            return gettext(message, **found.groupdict())
    return gettext(UNEXPECTED, error=text)
