"""Weekly and monthly reports: when each site's are due, their numbers from the stats
engine, and the jobs that fan a report out to its recipients and mail each one once.

One `reports` job per (site, period) takes the numbers once and enqueues one
`report_mail` job per recipient, keyed by (site, period, recipient): a restart, a second
runner or a retry never makes a second one, and a mail that the SMTP server refused is
retried with the queue's backoff (jetrack.store.job_queue.fail)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.utils import make_msgid
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from jetrack.accounts.users import saved_locale
from jetrack.config import Settings
from jetrack.i18n.catalogs import LANGUAGES, SOURCE_LANGUAGE
from jetrack.notify.mail import send_message
from jetrack.notify.reports import Entry, Figure, Report, report_message, subject
from jetrack.privacy.restriction import reporting_allowed
from jetrack.sites import report_recipients, webhooks
from jetrack.sites.report_recipients import Recipient
from jetrack.stats import exchange_rates
from jetrack.stats.dates import month_start
from jetrack.stats.engine import run_query
from jetrack.stats.query import SiteInfo
from jetrack.store import job_queue
from jetrack.store.events import EventStore
from jetrack.store.job_queue import JobContext
from jetrack.store.models import Goal, ReportRecipient, Site, User, Webhook
from jetrack.store.stores import Stores

PERIODS = ("week", "month")
SEND_AT = time(9, 0)  # local time of the site, on Mondays and on the 1st
# A runner that was down at 09:00 still sends the report within this long; later it skips
# that period rather than mail a stale report.
GRACE = timedelta(days=2)
TOP_ROWS = 5


# --- When ---------------------------------------------------------------------------------


def last_full_period(period: str, today: date) -> tuple[date, date]:
    """The last whole week (Monday to Sunday) or calendar month before `today`."""
    if period == "week":
        monday = today - timedelta(days=today.weekday())
        return monday - timedelta(days=7), monday - timedelta(days=1)
    first = month_start(today, 1)
    return first, month_start(today) - timedelta(days=1)


def send_moment(period: str, timezone: str, now: datetime) -> datetime:
    """The latest 09:00 on a Monday (week) or a 1st (month) in `timezone`, at or before now."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    day = local.date()
    day = day - timedelta(days=day.weekday()) if period == "week" else day.replace(day=1)
    moment = datetime.combine(day, SEND_AT, zone)
    if moment > now:
        day = day - timedelta(days=7) if period == "week" else month_start(day, 1)
        moment = datetime.combine(day, SEND_AT, zone)
    return moment.astimezone(UTC)


def due_period(period: str, timezone: str, now: datetime) -> tuple[date, date] | None:
    """The period whose report is due now, or None (after its grace time)."""
    moment = send_moment(period, timezone, now)
    if now - moment > GRACE:
        return None
    return last_full_period(period, moment.astimezone(ZoneInfo(timezone)).date())


def schedule_reports(session: Session, settings: Settings, now: datetime) -> None:
    """Enqueue each due (site, period) report once, for sites with a recipient or a webhook
    of that period."""
    if not settings.smtp_host:
        return  # nothing could be mailed; `jetrack reports send` says so itself
    wanted: set[tuple[int, str, str]] = {
        (site_id, timezone, kind)
        for site_id, timezone, kind in session.execute(
            select(Site.id, Site.timezone, ReportRecipient.kind)
            .join(ReportRecipient, ReportRecipient.site_id == Site.id)
            .where(ReportRecipient.kind.in_(PERIODS), ReportRecipient.confirmed_at.is_not(None))
        )
    }
    for site_id, timezone, kinds in session.execute(
        select(Site.id, Site.timezone, Webhook.kinds).join(Webhook, Webhook.site_id == Site.id)
    ):
        wanted.update((site_id, timezone, kind) for kind in kinds if kind in PERIODS)
    for site_id, timezone, period in sorted(wanted):
        due = due_period(period, timezone, now)
        if due is not None:
            payload = {"site_id": site_id, "period": period, "first": due[0].isoformat()}
            key = f"reports:{site_id}:{period}:{due[0].isoformat()}"
            job_queue.enqueue(session, "reports", payload, dedup_key=key)


# --- The numbers --------------------------------------------------------------------------


def report_requests(
    domain: str, first: date, last: date, previous: tuple[date, date], goals: bool
) -> dict[str, dict[str, Any]]:
    """The Stats API v2 requests a report is made of (tests send the same over HTTP)."""
    span = [first.isoformat(), last.isoformat()]
    top = {"pagination": {"limit": TOP_ROWS}, "order_by": [["visitors", "desc"]]}
    requests: dict[str, dict[str, Any]] = {
        "figures": {
            "site_id": domain,
            "metrics": ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"],
            "date_range": span,
            "include": {
                "comparisons": {
                    "mode": "custom",
                    "date_range": [previous[0].isoformat(), previous[1].isoformat()],
                }
            },
        },
        "days": {
            "site_id": domain,
            "metrics": ["visitors"],
            "date_range": span,
            "dimensions": ["time:day"],
            "include": {"time_labels": True},
        },
        "sources": {"site_id": domain, "metrics": ["visitors"], "date_range": span,
                    "dimensions": ["visit:source"], **top},
        "pages": {"site_id": domain, "metrics": ["visitors"], "date_range": span,
                  "dimensions": ["event:page"], **top},
        "countries": {"site_id": domain, "metrics": ["visitors"], "date_range": span,
                      "dimensions": ["visit:country_name", "visit:country"], **top},
    }  # fmt: skip
    if goals:
        requests["goals"] = {"site_id": domain, "metrics": ["visitors"], "date_range": span,
                             "dimensions": ["event:goal"], **top}  # fmt: skip
    return requests


def previous_period(period: str, first: date) -> tuple[date, date]:
    if period == "week":
        return first - timedelta(days=7), first - timedelta(days=1)
    return month_start(first, 1), first - timedelta(days=1)


def _entries(result: dict[str, Any]) -> list[Entry]:
    """Rows of a top list: the label, and a second dimension's value (a country's code)."""
    return [
        Entry(str(row["dimensions"][0]), int(row["metrics"][0]), *map(str, row["dimensions"][1:2]))
        for row in result["results"]
    ]


def build_report(
    events: EventStore, site: SiteInfo, period: str, first: date, has_goals: bool,
    rates: exchange_rates.ExchangeRates | None = None,
) -> Report:  # fmt: skip
    """One site's report for the period starting `first`, from the stats engine."""
    last = last_full_period(period, first + timedelta(days=40 if period == "month" else 7))[1]
    requests = report_requests(site.domain, first, last, previous_period(period, first), has_goals)
    answers = {
        name: run_query(events, site, request, rates=rates) for name, request in requests.items()
    }
    total = answers["figures"]["results"][0] if answers["figures"]["results"] else None
    names = requests["figures"]["metrics"]
    figures = [
        Figure(
            metric,
            float(total["metrics"][index]) if total else 0.0,
            _change(total, index),
        )
        for index, metric in enumerate(names)
    ]
    by_day = {row["dimensions"][0]: int(row["metrics"][0]) for row in answers["days"]["results"]}
    days = [Entry(label, by_day.get(label, 0)) for label in answers["days"]["meta"]["time_labels"]]
    return Report(
        domain=site.domain,
        period=period,
        first=first,
        last=last,
        timezone=site.timezone,
        figures=figures,
        days=days,
        sources=_entries(answers["sources"]),
        pages=_entries(answers["pages"]),
        countries=_entries(answers["countries"]),
        goals=_entries(answers["goals"]) if "goals" in answers else [],
    )


def _change(total: dict[str, Any] | None, index: int) -> float | None:
    """The Stats API's change (percent; points for the bounce rate), None when the period
    before had no visitors: "new" says more than +100%."""
    if total is None or "comparison" not in total or not total["comparison"]["metrics"][0]:
        return None
    value = total["comparison"]["change"][index]
    return None if value is None else float(value)


# --- The jobs -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SiteFacts:
    info: SiteInfo
    has_goals: bool


def site_facts(session: Session, site_id: int) -> SiteFacts | None:
    site = session.get(Site, site_id)
    if site is None:
        return None
    has_goals = session.scalar(select(Goal.id).where(Goal.site_id == site.id).limit(1))
    return SiteFacts(SiteInfo.from_site(site), has_goals is not None)


def run_reports(context: JobContext) -> None:
    """Take one (site, period) report's numbers, then queue a mail per recipient."""
    stores, payload = context.stores, context.payload
    with stores.control.session() as session:
        facts = site_facts(session, int(payload["site_id"]))
    if facts is None:
        return  # the site was deleted since

    def numbers() -> None:
        first = date.fromisoformat(payload["first"])
        rates = exchange_rates.current(stores.settings.data_dir)
        report = build_report(
            stores.events, facts.info, payload["period"], first, facts.has_goals, rates
        )
        payload["report"] = report.as_json()

    def fan_out() -> None:
        period, first = payload["period"], payload["first"]
        report = Report.from_json(payload["report"])
        with stores.control.session() as session:
            for one in report_recipients.confirmed(session, facts.info.id, period):
                job_queue.enqueue(
                    session,
                    "report_mail",
                    {"recipient_id": one.id, "report": payload["report"]},
                    dedup_key=mail_key(one, first),
                )
            site = session.get(Site, facts.info.id)
            if site is not None and reporting_allowed(session, site, None):
                text = f"{subject(report)}\n{dashboard_url(stores.settings, report.domain)}"
                key = f"report:{facts.info.id}:{period}:{first}"
                webhooks.queue_deliveries(
                    session, facts.info.id, period, f"report.{period}", key, payload["report"], text
                )

    context.run_steps([("numbers", numbers), ("fan_out", fan_out)])


def mail_key(recipient: Recipient, first: str) -> str:
    """The one key of a (site, period, recipient) report: its job's and its Message-ID's."""
    return f"report_mail:{recipient.site_id}:{recipient.kind}:{first}:{recipient.id}"


def recipient_of(context: JobContext) -> tuple[Recipient, str, str] | None:
    """A mail job's recipient, their unsubscribe URL and their mail's language; None (and the
    job's payload says `skipped`) when they unsubscribed since or may not be mailed now."""
    with context.stores.control.session() as session:
        one = report_recipients.recipient(session, int(context.payload["recipient_id"]))
        if one is None or not may_mail(session, one):
            context.payload["skipped"] = True
            return None
        token = report_recipients.link_token(session, "unsubscribe", one)
        locale = mail_language(session, one)
    return one, unsubscribe_url(context.stores.settings, token), locale


def mail_language(session: Session, one: Recipient) -> str:
    """The language of a report or alert mail: the recipient account's saved one (its own
    opt-in, or an outside address that has an account), else the saved one of whoever
    added the address, else the site owner's, else English (docs/translations.md)."""
    account = session.get(User, one.user_id) if one.user_id is not None else None
    site = session.get(Site, one.site_id)
    row = session.get(ReportRecipient, one.id)
    adder = session.get(User, row.added_by_id) if row and row.added_by_id is not None else None
    candidates = (
        account.locale if account is not None else saved_locale(session, one.email),
        adder.locale if adder is not None else None,
        site.owner.locale if site is not None else None,
    )
    return next((code for code in candidates if code in LANGUAGES), SOURCE_LANGUAGE)


def send_report_mail(context: JobContext) -> None:
    """Mail one recipient their report."""
    found = recipient_of(context)
    if found is None:
        return
    one, unsubscribe, locale = found
    settings = context.stores.settings
    report = Report.from_json(context.payload["report"])
    key = mail_key(one, report.first.isoformat())
    message = report_message(settings, one.email, report, unsubscribe, message_id(key), locale)
    context.run_steps([("send", lambda: asyncio.run(send_message(settings, message)))])


def may_mail(session: Session, one: Recipient) -> bool:
    """Reports stop while the site's owner restricts processing (privacy/restriction.py),
    except those mailed to the owner."""
    site = session.get(Site, one.site_id)
    if site is None:
        return False
    viewer = session.get(User, one.user_id) if one.user_id is not None else None
    return reporting_allowed(session, site, viewer)


def dashboard_url(settings: Settings, domain: str) -> str:
    return f"{settings.base_url.rstrip('/')}/sites/{domain}"


def unsubscribe_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url.rstrip('/')}/reports/unsubscribe?token={token}"


def message_id(key: str) -> str:
    return "<" + key.replace(":", ".") + "@jetrack.invalid>"


# --- Now, from the command line -----------------------------------------------------------


def send_now(stores: Stores, domain: str, period: str, to: str) -> Report:
    """`jetrack reports send`: the last whole period's report to `to`, now, not queued.
    Carries the unsubscribe headers when `to` is a recipient of that report."""
    with stores.control.session() as session:
        site = session.scalar(select(Site).where(Site.domain == domain))
        if site is None:
            raise LookupError(f"no site {domain}")
        facts = site_facts(session, site.id)
        assert facts is not None
        found = [r for r in report_recipients.confirmed(session, site.id, period) if r.email == to]
        token = report_recipients.link_token(session, "unsubscribe", found[0]) if found else None
    first, _ = last_full_period(period, _local_today(facts.info.timezone))
    rates = exchange_rates.current(stores.settings.data_dir)
    report = build_report(stores.events, facts.info, period, first, facts.has_goals, rates)
    settings = stores.settings
    page = f"{settings.base_url.rstrip('/')}/sites/{domain}/reports"
    url = unsubscribe_url(settings, token) if token else page
    message = report_message(settings, to, report, url, make_msgid(domain="jetrack.invalid"))
    if not token:
        for header in ("List-Unsubscribe", "List-Unsubscribe-Post"):
            del message[header]
    asyncio.run(send_message(settings, message))
    return report


def _local_today(timezone: str) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(timezone)).date()
