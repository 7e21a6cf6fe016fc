"""The hourly quota job: counts each team's billable events of its billing month (one
event-store query a team), moves its quota on (warning, over quota and grace) and queues
the owners' mails once per threshold and month; and mails the owners of a team whose
downgrade started a retention notice. With billing off it counts nothing and mails no
quota; a retention notice (an operator's downgrade) is still mailed."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jetrack.billing.changes import plan_history
from jetrack.billing.limits import upgrade_path
from jetrack.billing.plans import effective_plan, plan_named
from jetrack.billing.quota import GRACE_DAYS, grace_end, next_step
from jetrack.billing.usage import refresh_usage
from jetrack.i18n.catalogs import LANGUAGES, SOURCE_LANGUAGE
from jetrack.notify.billing import PlanMailFacts, plan_mail
from jetrack.notify.mail import log_unsent, send_message
from jetrack.store import job_queue
from jetrack.store.events import EventStore
from jetrack.store.job_queue import JobContext
from jetrack.store.models import Membership, RetentionNotice, Team, User, as_utc, utcnow


def run_quota(context: JobContext) -> None:
    stores = context.stores
    now = utcnow()
    with stores.control.session() as session:
        mails = check_notices(session, now)
        if stores.settings.billing:
            for team in list(session.scalars(select(Team).order_by(Team.id))):
                mails += check_team(session, stores.events, team, now)
    context.payload["mails"] = mails


def check_team(session: Session, events: EventStore, team: Team, now: datetime) -> int:
    """Count the team's month and act on it; the number of mails queued."""
    row = refresh_usage(session, events, team.id, team.plan, now)
    if row.plan != team.plan:  # the plan changed since: its warnings and grace start over
        row.plan, row.warned_at, row.over_at = team.plan, None, None
    plan = effective_plan(True, team.plan)
    step = next_step(row.billable_events, plan.monthly_pageviews, row.warned_at, row.over_at, now)
    row.warned_at, row.over_at = step.warned_at, step.over_at
    if step.mail is None or plan.monthly_pageviews is None:
        return 0
    facts = PlanMailFacts(
        step.mail, team.name, plan.name, upgrade_path(team.id),
        percent=round(100 * row.billable_events / plan.monthly_pageviews),
        used=row.billable_events, quota=plan.monthly_pageviews, grace_days=GRACE_DAYS,
        until=grace_end(now).date().isoformat() if step.mail == "over" else "",
    )  # fmt: skip
    key = f"plan_mail:{step.mail}:{team.id}:{as_utc(row.period_start):%Y%m%d}:{team.plan}"
    return _queue_owner_mails(session, team.id, facts, key)


def check_notices(session: Session, now: datetime) -> int:
    """Mail the owners of each team whose retention notice is running and not mailed yet."""
    mails = 0
    waiting = select(RetentionNotice).where(
        RetentionNotice.mailed_at.is_(None), RetentionNotice.ends_at > now
    )
    for notice in list(session.scalars(waiting)):
        team = session.get(Team, notice.team_id)
        if team is None:
            continue
        plan = plan_named(team.plan)
        facts = PlanMailFacts(
            "retention", team.name, plan.name if plan else "", upgrade_path(team.id),
            until=as_utc(notice.ends_at).date().isoformat(), new_days=notice.new_days,
        )  # fmt: skip
        key = f"plan_mail:retention:{team.id}:{len(plan_history(session, team.id))}"
        mails += _queue_owner_mails(session, team.id, facts, key)
        notice.mailed_at = now
    return mails


def _queue_owner_mails(session: Session, team_id: int, facts: PlanMailFacts, key: str) -> int:
    owners = session.scalars(
        select(Membership.user_id).where(Membership.team_id == team_id, Membership.role == "owner")
    )
    queued = 0
    for user_id in list(owners):
        payload = {"user_id": user_id, "facts": asdict(facts)}
        if job_queue.enqueue(session, "plan_mail", payload, dedup_key=f"{key}:{user_id}"):
            queued += 1
    return queued


def send_plan_mail(context: JobContext) -> None:
    """Mail one owner; skipped when the account is gone or locked; logged without SMTP."""
    settings = context.stores.settings
    with context.stores.control.session() as session:
        user = session.get(User, int(context.payload["user_id"]))
        if user is None or user.locked_at is not None:
            context.payload["skipped"] = True
            return
        to = user.email
        locale = user.locale if user.locale in LANGUAGES else SOURCE_LANGUAGE
    message = plan_mail(settings, to, PlanMailFacts(**context.payload["facts"]), locale)
    if not settings.smtp_host:  # logged instead (the subject and text, not the recipient)
        body = message.get_body(preferencelist=("plain",))
        log_unsent(str(message["Subject"]), str(body.get_content()) if body else "")
        context.payload["skipped"] = True
        return
    context.run_steps([("send", lambda: asyncio.run(send_message(settings, message)))])
