"""The privacy mails (erasure notice and confirmation, export ready, new ticket)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from jetrack.config import Settings
from jetrack.notify.mail import send_mail
from jetrack.notify.templates import template_environment

SUBJECTS = {
    "erasure_notice": "Your Jetrack account will be deleted",
    "erased": "Your Jetrack account was erased",
    "export_ready": "Your Jetrack data export is ready",
    "ticket": "New message through Jetrack",
}

_environment = template_environment()


@dataclass(frozen=True)
class PrivacyMail:
    subject: str
    text: str
    html: str


def compose(settings: Settings, mail_kind: str, **context: Any) -> PrivacyMail:
    context = {"base_url": settings.base_url.rstrip("/"), **context}
    text = _environment.get_template(f"privacy/mail/{mail_kind}.txt").render(context)
    html = _environment.get_template(f"privacy/mail/{mail_kind}.html").render(context)
    return PrivacyMail(SUBJECTS[mail_kind], text, html)


def send(settings: Settings, to: str, mail: PrivacyMail) -> bool:
    """Send a composed mail from a job's worker thread (which has no event loop of its own);
    True when the SMTP server accepted it."""
    return asyncio.run(send_mail(settings, to, mail.subject, mail.text, mail.html))
