"""The account mails Jetrack sends: subject, text and HTML from templates/mail/."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.background import BackgroundTask

from jetrack.config import Settings
from jetrack.notify.mail import send_mail
from jetrack.web.templating import TEMPLATES_DIR

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR / "mail"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

SUBJECTS = {
    "verify_email": "Confirm your email address for Jetrack",
    "account_exists": "Someone tried to sign up to Jetrack with your address",
    "reset_password": "Reset your Jetrack password",
    "change_email": "Confirm your new email address for Jetrack",
    "invitation": "You are invited to Jetrack",
    "email_changed": "The email address of your Jetrack account was changed",
}


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str


def compose(settings: Settings, kind: str, to: str, **context: Any) -> Mail:
    context = {"base_url": settings.base_url.rstrip("/"), **context}
    text = _environment.get_template(f"{kind}.txt").render(context)
    html = _environment.get_template(f"{kind}.html").render(context)
    return Mail(to, SUBJECTS[kind], text, html)


def link(settings: Settings, path: str) -> str:
    return settings.base_url.rstrip("/") + path


async def deliver(settings: Settings, mail: Mail) -> None:
    await send_mail(settings, mail.to, mail.subject, mail.text, mail.html)


def in_background(settings: Settings, mail: Mail | None) -> BackgroundTask | None:
    """Send after the response, so that answering never waits for (or reveals) a mail."""
    return BackgroundTask(deliver, settings, mail) if mail is not None else None
