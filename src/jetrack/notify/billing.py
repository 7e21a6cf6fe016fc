"""The plan mails to a team's owners: the quota's warning and "over quota" (grace begun),
and a downgrade's retention notice offering the export first."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

from jetrack.config import Settings
from jetrack.i18n.catalogs import SOURCE_LANGUAGE, current_language, gettext, gettext_noop, language
from jetrack.i18n.formatting import number
from jetrack.notify.mail import build_message
from jetrack.notify.templates import TEMPLATES_DIR, template_environment

_environment = template_environment(TEMPLATES_DIR / "mail")

SUBJECTS = {
    "warning": gettext_noop("{team} has used {percent}% of this month's pageviews"),
    "over": gettext_noop("{team} is over this month's pageviews: upgrade within {days} days"),
    "retention": gettext_noop("{team}: data older than {days} days will be deleted on {date}"),
}


@dataclass(frozen=True, slots=True)
class PlanMailFacts:
    """What a plan mail says (JSON in the mail job's payload)."""

    kind: str  # "warning", "over" or "retention"
    team: str
    plan: str
    upgrade_path: str  # the plans page, from the base URL
    percent: int = 0
    used: int = 0
    quota: int = 0
    grace_days: int = 0
    until: str = ""  # ISO day: the grace's or the notice's end
    new_days: int = 0  # retention: what the new plan keeps


def plan_mail(
    settings: Settings, to: str, facts: PlanMailFacts, locale: str = SOURCE_LANGUAGE
) -> EmailMessage:
    """The plan mail in `locale` (the owner's saved language)."""
    with language(locale):
        base = settings.base_url.rstrip("/")
        context = {
            "lang": current_language(),
            "facts": facts,
            "used": number(facts.used),
            "quota": number(facts.quota),
            "upgrade_url": base + facts.upgrade_path,
            "export_url": base + "/account/privacy",
        }
        text = _environment.get_template(f"plan_{facts.kind}.txt").render(context)
        html = _environment.get_template(f"plan_{facts.kind}.html").render(context)
        days = facts.new_days if facts.kind == "retention" else facts.grace_days
        subject = gettext(
            SUBJECTS[facts.kind], team=facts.team, percent=facts.percent, days=days,
            date=facts.until,
        )  # fmt: skip
    return build_message(settings, to, subject, text, html)
