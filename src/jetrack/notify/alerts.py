"""The traffic alert mails: tracking seems to have stopped, and traffic is back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, format_time

from jetrack.config import Settings
from jetrack.i18n.catalogs import (
    SOURCE_LANGUAGE,
    current,
    current_language,
    gettext,
    gettext_noop,
    language,
)
from jetrack.i18n.formatting import number
from jetrack.notify.mail import build_message
from jetrack.notify.reports import with_unsubscribe
from jetrack.notify.templates import TEMPLATES_DIR, template_environment

_environment = template_environment(TEMPLATES_DIR / "mail")

SUBJECTS = {
    "stopped": gettext_noop("Tracking seems to have stopped on {domain}"),
    "back": gettext_noop("Traffic is back on {domain}"),
    "spike": gettext_noop("Traffic spike on {domain}: {visitors} current visitors"),
}


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """What an alert mail says (JSON in the mail job's payload)."""

    kind: str  # "stopped" or "back"
    domain: str
    timezone: str
    last_event: str  # ISO instant of the last event before the silence
    silent_hours: int
    normal_hours: int
    back_at: str = ""  # ISO instant of the first event after it ("back" only)
    # "spike" only: the current visitors, the site's threshold, and the top sources of the
    # last 30 minutes as [source, visitors] pairs.
    visitors: int = 0
    threshold: int = 0
    sources: list[list[Any]] = field(default_factory=list)


def _local(instant: str, timezone: str) -> str:
    moment = datetime.fromisoformat(instant).astimezone(ZoneInfo(timezone))
    if current_language() != SOURCE_LANGUAGE:
        locale = current().locale
        written = f"{format_skeleton('yMMMEd', moment, locale=locale)}, "
        written += format_time(moment, "short", locale=locale)
        return f"{written} ({timezone})"
    return f"{moment:%a %-d %b %Y, %H:%M} ({timezone})"


def alert_message(
    settings: Settings,
    to: str,
    facts: AlertFacts,
    unsubscribe_url: str,
    message_id: str,
    locale: str = SOURCE_LANGUAGE,
) -> EmailMessage:
    """The alert mail in `locale` (jobs.reports.mail_language)."""
    with language(locale):
        text, html, subject = _rendered(settings, facts, unsubscribe_url)
    message = build_message(settings, to, subject, text, html)
    message.replace_header("Message-ID", message_id)
    return with_unsubscribe(message, unsubscribe_url)


def _rendered(settings: Settings, facts: AlertFacts, unsubscribe_url: str) -> tuple[str, ...]:
    base = settings.base_url.rstrip("/")
    context = {
        "lang": current_language(),
        "visitors": number(facts.visitors),
        "threshold": number(facts.threshold),
        "sources": [(source, number(visitors)) for source, visitors in facts.sources],
        "facts": facts,
        "last_event": _local(facts.last_event, facts.timezone),
        "back_at": _local(facts.back_at, facts.timezone) if facts.back_at else "",
        "settings_url": f"{base}/sites/{facts.domain}/settings",
        "dashboard_url": f"{base}/sites/{facts.domain}",
        "unsubscribe_url": unsubscribe_url,
    }
    text = _environment.get_template(f"alert_{facts.kind}.txt").render(context)
    html = _environment.get_template(f"alert_{facts.kind}.html").render(context)
    subject = gettext(SUBJECTS[facts.kind], domain=facts.domain, visitors=context["visitors"])
    return text, html, subject
