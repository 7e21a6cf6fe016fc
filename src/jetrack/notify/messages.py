"""The account mails Jetrack sends: subject, text and HTML from templates/mail/."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.background import BackgroundTask

from jetrack.config import Settings
from jetrack.i18n.catalogs import (
    SOURCE_LANGUAGE,
    available,
    current_language,
    gettext,
    gettext_noop,
    language,
)
from jetrack.notify.mail import send_mail
from jetrack.notify.templates import TEMPLATES_DIR, template_environment

_environment = template_environment(TEMPLATES_DIR / "mail")

SUBJECTS = {
    "verify_email": gettext_noop("Confirm your email address for Jetrack"),
    "account_exists": gettext_noop("Someone tried to sign up to Jetrack with your address"),
    "reset_password": gettext_noop("Reset your Jetrack password"),
    "change_email": gettext_noop("Confirm your new email address for Jetrack"),
    "invitation": gettext_noop("You are invited to Jetrack"),
    "email_changed": gettext_noop("The email address of your Jetrack account was changed"),
    "report_confirm": gettext_noop("Confirm that you want Jetrack reports"),
}
# Every mail here is in the recipient account's saved language, else the language of the
# page that sent it (the inviter's, for an invitation or a report confirmation).
LOCALIZED = frozenset(SUBJECTS)


# What a mail client would turn into a link: a scheme, "www.", or a dot inside a word
# ("evil.example", "x.y/path"). Names other people chose are defanged before they are mailed.
_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*)\s*:\s*//")
_DOTTED = re.compile(r"(?<=\w)\.(?=\w)")
_HTTP = re.compile(r"(?i)\bhttp")
_WWW = re.compile(r"(?i)\bwww\.")
_FULL_STOPS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})  # linkified too


def defanged(value: str, limit: int = 80) -> str:
    """Text someone else wrote (a name, a team), on one line, with no link left in it."""
    value = " ".join(value.split())[:limit].translate(_FULL_STOPS)
    value = _SCHEME.sub(lambda m: f"{m.group(1)}[:]//", value)
    value = _HTTP.sub(lambda m: m.group(0)[0] + "xx" + m.group(0)[3], value)
    value = _WWW.sub(lambda m: m.group(0)[:3] + "[.]", value)
    return _DOTTED.sub("[.]", value)


def quoted(value: str) -> str:
    """A name inside a sentence of ours, quoted so it cannot pass for our words."""
    return '"' + defanged(value).replace('"', "'") + '"'


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str


def compose(
    settings: Settings, kind: str, to: str, *, locale: str | None = None, **context: Any
) -> Mail:
    """The mail of `kind` to `to`; a LOCALIZED kind in `locale` (a user's saved language;
    None: the current one, the page's that sends it), the others in English."""
    if "name" in context:  # the name of a new account is the signer-up's text, mailed to
        context["name"] = defanged(str(context["name"]))  # whatever address they typed
    code = (locale or current_language()) if kind in LOCALIZED else SOURCE_LANGUAGE
    if code not in available():
        code = SOURCE_LANGUAGE
    context = {"base_url": settings.base_url.rstrip("/"), "lang": code, **context}
    with language(code):
        text = _environment.get_template(f"{kind}.txt").render(context)
        html = _environment.get_template(f"{kind}.html").render(context)
        subject = gettext(SUBJECTS[kind])
    return Mail(to, subject, text, html)


def link(settings: Settings, path: str) -> str:
    return settings.base_url.rstrip("/") + path


async def deliver(settings: Settings, mail: Mail) -> None:
    await send_mail(settings, mail.to, mail.subject, mail.text, mail.html)


def in_background(settings: Settings, mail: Mail | None) -> BackgroundTask | None:
    """Send after the response, so that answering never waits for (or reveals) a mail."""
    return BackgroundTask(deliver, settings, mail) if mail is not None else None
