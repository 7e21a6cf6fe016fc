"""The Jinja setup shared by the mails (notify/, privacy/) and the pages (web/templating.py):
one templates directory, HTML autoescaped, block tags leave no blank lines."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from jetrack.i18n.catalogs import gettext, ngettext

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


def template_environment(directory: Path = TEMPLATES_DIR) -> Environment:
    """`_` and `ngettext` translate into the current language (jetrack.i18n)."""
    environment = Environment(
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(_=gettext, gettext=gettext, ngettext=ngettext)
    return environment
