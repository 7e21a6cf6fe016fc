"""Traffic alerts: every 15 minutes, each site with alert recipients is checked against its
own history (jetrack.notify.silence); a silence well outside its normal gaps is mailed once,
and its end ("traffic is back") once; a spike of current visitors above the site's
threshold at most once per its `every_hours`; all through `alert_mail` jobs keyed per
recipient."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from jetrack.config import Settings
from jetrack.jobs.reports import message_id, recipient_of
from jetrack.notify.alerts import SUBJECTS, AlertFacts, alert_message
from jetrack.notify.mail import send_message
from jetrack.notify.silence import HISTORY, Verdict, judge
from jetrack.privacy.restriction import reporting_allowed
from jetrack.sites import report_recipients, webhooks
from jetrack.stats.activity import Activity, active_hours
from jetrack.stats.engine import run_query
from jetrack.stats.query import SiteInfo
from jetrack.stats.v1 import realtime_visitors
from jetrack.store import job_queue
from jetrack.store.control import ControlStore
from jetrack.store.events import EventStore
from jetrack.store.job_queue import JobContext
from jetrack.store.models import (
    Job,
    ReportRecipient,
    Site,
    SpikeAlert,
    TrafficAlert,
    as_utc,
    utcnow,
)
from jetrack.store.stores import Stores

CHECK_MINUTES = 15


@dataclass(frozen=True, slots=True)
class Outcome:
    """One alert the check decided to send, and to how many recipients."""

    domain: str
    facts: AlertFacts
    recipients: int

    def describe(self) -> str:
        f = self.facts
        if f.kind == "stopped":
            what = (
                f"tracking stopped: no events for {f.silent_hours} h"
                f" (normal at this time of the week: up to {f.normal_hours} h)"
            )
        elif f.kind == "spike":
            what = f"traffic spike: {f.visitors} current visitors (threshold {f.threshold})"
        else:
            what = f"traffic is back since {f.back_at}"
        return f"{self.domain}: {what}; mailed to {self.recipients} recipient(s)"


def schedule_alerts(session: Session, settings: Settings, now: datetime) -> None:
    if settings.smtp_host:
        slot = now.minute // CHECK_MINUTES
        job_queue.enqueue(session, "alerts", dedup_key=f"alerts:{now:%Y-%m-%dT%H}:{slot}")


def run_alerts(context: JobContext) -> None:
    context.payload["sent"] = [o.describe() for o in check_alerts(context.stores)]


@dataclass(frozen=True, slots=True)
class Watched:
    id: int
    domain: str
    timezone: str


def _watched(session: Session) -> list[Watched]:
    rows = session.execute(
        select(Site.id, Site.domain, Site.timezone)
        .join(ReportRecipient, ReportRecipient.site_id == Site.id)
        .where(
            ReportRecipient.kind == "alerts",
            ReportRecipient.confirmed_at.is_not(None),
            Site.paused.is_(False),
        )
        .distinct()
        .order_by(Site.id)
    )
    return [Watched(*row) for row in rows]


def check_alerts(stores: Stores, now: datetime | None = None) -> list[Outcome]:
    """Decide for every watched site; queue the mails of what changed; say what."""
    now = now or utcnow()
    with stores.control.session() as session:
        watched = _watched(session)
    activity = active_hours(stores.events, [site.id for site in watched], now - HISTORY, now)
    outcomes: list[Outcome] = []
    for site in watched:
        with stores.control.session() as session:
            verdict = judge(activity[site.id].hours, now)
            found = [
                _check_site(session, site, activity[site.id], verdict, now),
                _check_spike(stores.events, session, site, now),
            ]
        outcomes.extend(outcome for outcome in found if outcome is not None)
    return outcomes


def _check_site(
    session: Session, site: Watched, activity: Activity, verdict: Verdict | None, now: datetime
) -> Outcome | None:
    open_alert = session.scalar(
        select(TrafficAlert).where(
            TrafficAlert.site_id == site.id, TrafficAlert.recovered_at.is_(None)
        )
    )
    last = activity.last_event
    if open_alert is not None:
        if last is None or last <= as_utc(open_alert.last_event_at):
            return None  # still silent: alerted once already
        open_alert.recovered_at = now
        facts = AlertFacts(
            "back", site.domain, site.timezone, as_utc(open_alert.last_event_at).isoformat(),
            0, 0, back_at=_first_after(activity, as_utc(open_alert.last_event_at)).isoformat(),
        )  # fmt: skip
        key = f"alert_mail:{open_alert.id}:back"
        return Outcome(site.domain, facts, _queue(session, site.id, key, facts))
    if verdict is None or not verdict.alert or last is None:
        return None
    alert = TrafficAlert(
        site_id=site.id, last_event_at=last, threshold_hours=verdict.threshold_hours,
        alerted_at=now,
    )  # fmt: skip
    session.add(alert)
    session.flush()
    facts = AlertFacts(
        "stopped", site.domain, site.timezone, last.isoformat(), verdict.silent_hours,
        verdict.normal_hours,
    )  # fmt: skip
    key = f"alert_mail:{alert.id}:stopped"
    return Outcome(site.domain, facts, _queue(session, site.id, key, facts))


def _first_after(activity: Activity, moment: datetime) -> datetime:
    """The first active hour after `moment`'s (the back mail names the hour)."""
    later = [hour for hour in activity.hours if hour > moment]
    return later[0] if later else moment


def _queue(session: Session, site_id: int, key: str, facts: AlertFacts) -> int:
    """One `alert_mail` job per confirmed alert recipient, keyed `key:<recipient>`, and a
    delivery to each of the site's webhooks that takes alerts."""
    site = session.get(Site, site_id)
    if site is not None and reporting_allowed(session, site, None):
        text = f"{SUBJECTS[facts.kind].format(domain=facts.domain, visitors=facts.visitors)}"
        webhooks.queue_deliveries(
            session, site_id, "alerts", f"alert.{facts.kind}", key, asdict(facts), text
        )
    recipients = report_recipients.confirmed(session, site_id, "alerts")
    for one in recipients:
        job_queue.enqueue(
            session,
            "alert_mail",
            {"recipient_id": one.id, "facts": asdict(facts)},
            dedup_key=f"{key}:{one.id}",
        )
    return len(recipients)


SPIKE_SOURCES_MINUTES = 30


def _check_spike(
    events: EventStore, session: Session, site: Watched, now: datetime
) -> Outcome | None:
    """Current visitors (the Stats API's realtime count) at or above the site's threshold,
    and no spike mail within its `every_hours`: mail the top sources of the last 30 min."""
    setting = session.get(SpikeAlert, site.id)
    row = session.get(Site, site.id)
    if setting is None or row is None:
        return None
    if setting.last_sent_at is not None and now - as_utc(setting.last_sent_at) < timedelta(
        hours=setting.every_hours
    ):
        return None
    info = SiteInfo.from_site(row)
    current = realtime_visitors(events, info, now)
    if current < setting.threshold:
        return None
    setting.last_sent_at = now
    local = now.astimezone(ZoneInfo(site.timezone)).replace(microsecond=0)
    request = {
        "site_id": site.domain,
        "metrics": ["visitors"],
        "dimensions": ["visit:source"],
        "date_range": [
            (local - timedelta(minutes=SPIKE_SOURCES_MINUTES)).isoformat(),
            local.isoformat(),
        ],
        "order_by": [["visitors", "desc"]],
        "pagination": {"limit": 5},
    }
    answer = run_query(events, info, request, now=local)
    sources = [[r["dimensions"][0], int(r["metrics"][0])] for r in answer["results"]]
    facts = AlertFacts(
        "spike", site.domain, site.timezone, now.isoformat(), 0, 0,
        visitors=current, threshold=setting.threshold, sources=sources,
    )  # fmt: skip
    key = f"alert_mail:spike:{site.id}:{now:%Y-%m-%dT%H:%M}"
    return Outcome(site.domain, facts, _queue(session, site.id, key, facts))


def send_alert_mail(context: JobContext) -> None:
    found = recipient_of(context)
    if found is None:
        return
    one, unsubscribe, locale = found
    settings = context.stores.settings
    facts = AlertFacts(**context.payload["facts"])
    key = f"alert_mail:{context.job_id}"
    message = alert_message(settings, one.email, facts, unsubscribe, message_id(key), locale)
    context.run_steps([("send", lambda: asyncio.run(send_message(settings, message)))])


def mails_waiting(control: ControlStore) -> int:
    """Alert mails queued and not delivered yet (an SMTP failure is retried later)."""
    with control.session() as session:
        found = session.scalars(
            select(Job.id).where(Job.kind == "alert_mail", Job.state == job_queue.QUEUED)
        )
        return len(list(found))
