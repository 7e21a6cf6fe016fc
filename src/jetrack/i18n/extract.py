"""Collects the msgids from the templates, the Python code and the dashboard's TypeScript and
updates the catalogs (`make messages`): translations kept, new messages left empty,
messages no source uses any more dropped.

    python -m jetrack.i18n.extract
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.pofile import write_po
from jinja2.ext import babel_extract

from jetrack.i18n.catalogs import LANGUAGES, LOCALE_DIR, SOURCE_LANGUAGE, po_path, read_catalog

# A fixed date in the catalogs' header, so that `make messages` changes them only when a
# message changes.
CATALOG_DATE = datetime(2026, 12, 6, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[3]
PACKAGE = REPO / "src" / "jetrack"
KEYWORDS: dict[str, Any] = {
    "_": None,
    "gettext": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
}
# What stays English (docs/translations.md): the privacy mails.
ENGLISH_ONLY = ("templates/privacy/mail/",)
_QUOTED = r"""(?:'((?:\\.|[^'\\])*)'|"((?:\\.|[^"\\])*)")"""
_T_CALL = re.compile(r"(?<![\w.])tx?\(\s*" + _QUOTED)
_TN_CALL = re.compile(r"(?<![\w.])tn\(\s*" + _QUOTED + r"\s*,\s*" + _QUOTED)


def _unquote(single: str | None, double: str | None) -> str:
    text = single if single is not None else (double or "")
    return re.sub(r"\\(.)", r"\1", text)


def typescript_messages(source: str) -> Iterator[str | tuple[str, str]]:
    """The `t('...')` and `tn('...', '...', n)` literals of a TypeScript file."""
    for match in _T_CALL.finditer(source):
        yield _unquote(match.group(1), match.group(2))
    for match in _TN_CALL.finditer(source):
        yield _unquote(match.group(1), match.group(2)), _unquote(match.group(3), match.group(4))


def _from_babel(method: Any, path: Path) -> Iterator[str | tuple[str, str]]:
    options = {"extensions": "jinja2.ext.i18n", "trimmed": "true"}
    with path.open("rb") as source:
        for _line, message, _comments, _context in extract(
            method, source, KEYWORDS, options=options
        ):
            yield message if isinstance(message, str) else (message[0], message[1])


def sources(repo: Path = REPO) -> Iterator[tuple[Path, Any]]:
    package = repo / "src" / "jetrack"
    for path in sorted(package.rglob("*.py")):
        if "i18n" not in path.relative_to(package).parts:
            yield path, "python"
    templates = [*(package / "templates").rglob("*.html"), *(package / "templates").rglob("*.txt")]
    for path in sorted(templates):
        if not any(part in path.as_posix() for part in ENGLISH_ONLY):
            yield path, babel_extract
    for pattern in ("*.ts", "*.tsx"):
        for path in sorted((repo / "frontend" / "src").rglob(pattern)):
            yield path, "typescript"


def template_catalog(repo: Path = REPO) -> Catalog:
    """Every msgid the sources use, with the files that use it."""
    catalog = Catalog(
        locale=SOURCE_LANGUAGE, project="Jetrack", fuzzy=False, creation_date=CATALOG_DATE
    )
    for path, method in sources(repo):
        where = path.relative_to(repo).as_posix()
        if method == "typescript":
            found = typescript_messages(path.read_text(encoding="utf-8"))
        else:
            found = _from_babel(method, path)
        for message in found:
            if message:
                catalog.add(message, locations=[(where, None)])  # type: ignore[list-item]
    return catalog


def updated(template: Catalog, language: str, directory: Path) -> Catalog:
    path = po_path(language, directory)
    if path.exists():
        catalog = read_catalog(path)
    else:
        catalog = Catalog(
            locale=language, project="Jetrack", fuzzy=False, creation_date=CATALOG_DATE
        )
    catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
    catalog.obsolete.clear()
    return catalog


def write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        write_po(out, catalog, width=100, sort_output=True, omit_header=False, include_lineno=False)


def update_catalogs(repo: Path = REPO, directory: Path = LOCALE_DIR) -> list[Path]:
    template = template_catalog(repo)
    written = []
    for language in LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        path = po_path(language, directory)
        write(updated(template, language, directory), path)
        written.append(path)
    return written


def main() -> int:
    for path in update_catalogs():
        print(f"updated {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
