"""The privacy mails (erasure notice and confirmation, export ready, new ticket)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from jetrack.config import Settings

SUBJECTS = {
    "erasure_notice": "Your Jetrack account will be deleted",
    "erased": "Your Jetrack account was erased",
    "export_ready": "Your Jetrack data export is ready",
    "ticket": "New message through Jetrack",
}


def _environment() -> Environment:
    from jetrack.web.templating import TEMPLATES_DIR

    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True)
class PrivacyMail:
    subject: str
    text: str
    html: str


def compose(settings: Settings, mail_kind: str, **context: Any) -> PrivacyMail:
    environment = _environment()
    context = {"base_url": settings.base_url.rstrip("/"), **context}
    text = environment.get_template(f"privacy/mail/{mail_kind}.txt").render(context)
    html = environment.get_template(f"privacy/mail/{mail_kind}.html").render(context)
    return PrivacyMail(SUBJECTS[mail_kind], text, html)
