"""The weekly and monthly report mail: a Report's figures as HTML (inline styles, tables
only, explicit colours) and plain text, with RFC 8058 one-click unsubscribe headers.

The numbers are taken by jetrack.jobs.reports from the stats engine; this module only
formats them, so a Report travels in a job's payload as JSON (`as_json`, `from_json`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from email.message import EmailMessage
from typing import Any

from babel.dates import format_date, format_interval

from jetrack.config import Settings
from jetrack.i18n.catalogs import (
    SOURCE_LANGUAGE,
    current,
    current_language,
    gettext,
    gettext_noop,
    language,
    ngettext,
)
from jetrack.i18n.formatting import number
from jetrack.notify.mail import build_message
from jetrack.notify.templates import TEMPLATES_DIR, template_environment

_environment = template_environment(TEMPLATES_DIR / "mail")

HEADINGS = {
    "week": gettext_noop("Weekly report for {domain}"),
    "month": gettext_noop("Monthly report for {domain}"),
}
PERIOD_LINES = {
    "week": gettext_noop("{period} · times in {timezone} · change against the week before"),
    "month": gettext_noop("{period} · times in {timezone} · change against the month before"),
}
WHY = {
    "week": gettext_noop("You get this weekly report because you subscribed to it for {domain}."),
    "month": gettext_noop("You get this monthly report because you subscribed to it for {domain}."),
}
# The top figures, in the order the mail shows them: (metric, label, up is good).
FIGURES = (
    ("visitors", gettext_noop("Visitors"), True),
    ("visits", gettext_noop("Visits"), True),
    ("pageviews", gettext_noop("Pageviews"), True),
    ("bounce_rate", gettext_noop("Bounce rate"), False),
    ("visit_duration", gettext_noop("Visit duration"), True),
)
CHART_HEIGHT = 80  # pixels of the tallest bar


@dataclass(frozen=True, slots=True)
class Figure:
    metric: str
    value: float
    change: float | None  # percent (points for the bounce rate); None: no previous data


@dataclass(frozen=True, slots=True)
class Entry:
    label: str
    visitors: int
    code: str = ""  # a country's ISO code: the mail names it in the reader's language


@dataclass(frozen=True)
class Report:
    """One site's report for one period, as numbers (the mail formats them)."""

    domain: str
    period: str  # "week" or "month"
    first: date
    last: date
    timezone: str
    figures: list[Figure]
    days: list[Entry]  # visitors per day of the period, oldest first
    sources: list[Entry] = field(default_factory=list)
    pages: list[Entry] = field(default_factory=list)
    countries: list[Entry] = field(default_factory=list)
    goals: list[Entry] = field(default_factory=list)

    def figure(self, metric: str) -> Figure:
        return next(f for f in self.figures if f.metric == metric)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["first"], data["last"] = self.first.isoformat(), self.last.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        def entries(name: str) -> list[Entry]:
            return [Entry(**item) for item in data.get(name, [])]

        return cls(
            domain=data["domain"],
            period=data["period"],
            first=date.fromisoformat(data["first"]),
            last=date.fromisoformat(data["last"]),
            timezone=data["timezone"],
            figures=[Figure(**item) for item in data["figures"]],
            days=entries("days"),
            sources=entries("sources"),
            pages=entries("pages"),
            countries=entries("countries"),
            goals=entries("goals"),
        )


def period_label(report: Report) -> str:
    """The period in the current language (English keeps its short forms: 23–29 Nov 2026)."""
    if current_language() != SOURCE_LANGUAGE:
        locale = current().locale
        if report.period == "month":
            return format_date(report.first, "LLLL y", locale=locale)
        return format_interval(report.first, report.last, "yMMMd", locale=locale)
    if report.period == "month":
        return report.first.strftime("%B %Y")
    if report.first.month == report.last.month:
        return f"{report.first.day}–{report.last:%-d %b %Y}"
    return f"{report.first:%-d %b} – {report.last:%-d %b %Y}"


def formatted(metric: str, value: float) -> str:
    if metric == "bounce_rate":
        return f"{number(value)}%"
    if metric == "visit_duration":
        seconds = round(value)
        return f"{seconds // 60}m {seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
    return number(round(value))


def change_text(figure: Figure) -> str:
    if figure.change is None:
        return gettext("new")
    unit = " " + gettext("pts") if figure.metric == "bounce_rate" else "%"  # percentage points
    sign = "+" if figure.change > 0 else ("−" if figure.change < 0 else "±")
    return f"{sign}{number(abs(figure.change))}{unit}"


def change_colour(figure: Figure, up_is_good: bool) -> str:
    if not figure.change:
        return "#5d636e"
    good = (figure.change > 0) == up_is_good
    return "#1f7a3a" if good else "#b42318"


def subject(report: Report) -> str:
    visitors = report.figure("visitors")
    figures = ngettext(
        "{count} visitor ({change})",
        "{count} visitors ({change})",
        round(visitors.value),
        count=formatted("visitors", visitors.value),
        change=change_text(visitors),
    )
    heading = gettext(HEADINGS[report.period], domain=report.domain)
    return f"{heading}, {period_label(report)}: {figures}"


def _bars(report: Report) -> list[dict[str, Any]]:
    """A bar per day as two stacked table cells (empty space above, the bar below): tables
    render in every mail client, where SVG and CSS heights often do not."""
    top = max((day.visitors for day in report.days), default=0)
    bars = []
    for day in report.days:
        height = max(2, round(day.visitors * CHART_HEIGHT / top)) if top else 2
        bars.append({"label": day.label, "visitors": number(day.visitors), "height": height,
                     "space": CHART_HEIGHT - height})  # fmt: skip
    return bars


def _context(report: Report, settings: Settings, unsubscribe_url: str) -> dict[str, Any]:
    figures = [
        {
            "label": gettext(label),
            "value": formatted(metric, report.figure(metric).value),
            "change": change_text(report.figure(metric)),
            "colour": change_colour(report.figure(metric), up_is_good),
        }
        for metric, label, up_is_good in FIGURES
    ]
    tops = [
        (gettext("Top sources"), report.sources),
        (gettext("Top pages"), report.pages),
        (gettext("Top countries"), report.countries),
        (gettext("Goals"), report.goals),
    ]
    period = period_label(report)
    base = settings.base_url.rstrip("/")
    return {
        "report": report,
        "heading": gettext(HEADINGS[report.period], domain=report.domain),
        "period_line": gettext(
            PERIOD_LINES[report.period], period=period, timezone=report.timezone
        ),
        "why": gettext(WHY[report.period], domain=report.domain),
        "lang": current_language(),
        "figures": figures,
        "bars": _bars(report),
        "tops": [
            (title, [(number(row.visitors), _label(row)) for row in rows])
            for title, rows in tops
            if rows
        ],
        "dashboard_url": f"{base}/sites/{report.domain}",
        "unsubscribe_url": unsubscribe_url,
    }


def _label(entry: Entry) -> str:
    """A country in the current language (Germany, Deutschland, Allemagne); other rows as
    the stats engine named them."""
    if entry.code and current_language() != SOURCE_LANGUAGE:
        return str(current().locale.territories.get(entry.code, entry.label))
    return entry.label


def render(report: Report, settings: Settings, unsubscribe_url: str) -> tuple[str, str]:
    """The mail's text and HTML parts, in the current language."""
    context = _context(report, settings, unsubscribe_url)
    text = _environment.get_template("report.txt").render(context)
    html = _environment.get_template("report.html").render(context)
    return text, html


def with_unsubscribe(message: EmailMessage, unsubscribe_url: str) -> EmailMessage:
    """RFC 8058 one-click unsubscribe: a mail client POSTs List-Unsubscribe=One-Click to
    the https URL (RFC 2369's List-Unsubscribe header) without asking the reader again."""
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message


def report_message(
    settings: Settings,
    to: str,
    report: Report,
    unsubscribe_url: str,
    message_id: str,
    locale: str = SOURCE_LANGUAGE,
) -> EmailMessage:
    """The whole mail, in `locale` (jobs.reports.mail_language). `message_id` is the same for
    every send of one (site, period, recipient), so a receiver can drop the copy a crash
    between send and record repeats."""
    with language(locale):
        text, html = render(report, settings, unsubscribe_url)
        title = subject(report)
    message = build_message(settings, to, title, text, html)
    message.replace_header("Message-ID", message_id)
    return with_unsubscribe(message, unsubscribe_url)
