"""A team's subscription: what the provider said, which plan that gives, and the plan change.

`decide_plan` and `next_grace_end` are the state machine, pure: the stored answer of the
provider and the time in, a plan key out. The rest keeps `team_billing` and applies the
decision to the team through `jetrack.billing.changes.apply_plan`."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from jetrack.billing.changes import ChangeReason, apply_plan
from jetrack.billing.plans import FREE, PLANS
from jetrack.billing.provider import SubscriptionFacts
from jetrack.store.models import Team, TeamBilling, as_utc

log = logging.getLogger("jetrack.billing")

# A past_due subscription keeps its plan this long after its first failed payment; then
# the team is on Free until an invoice is paid (Stripe goes on retrying meanwhile).
GRACE = timedelta(days=14)
TRIAL_DAYS = 14  # a team's first subscription starts with a trial
PAYING = frozenset({"trialing", "active"})
# Every status the provider gives a subscription, for the pages: the rest are not paying.
STATUSES = (
    "trialing",
    "active",
    "past_due",
    "unpaid",
    "canceled",
    "incomplete",
    "incomplete_expired",
    "paused",
)


def decide_plan(
    *,
    status: str | None,
    plan: str | None,
    current_period_end: datetime | None,
    grace_end: datetime | None,
    now: datetime,
) -> str:
    """The plan a subscription in this state gives its team (pure).

    trialing, active: the plan paid for, also when cancelled at the period's end (the
    provider ends it then; if its word is late, the period's end decides). past_due: the
    plan until the grace ends. Anything else (canceled, unpaid, incomplete, paused, none):
    Free."""
    if plan not in PLANS:
        return FREE.key
    if status in PAYING:
        over = current_period_end is not None and as_utc(current_period_end) + GRACE < now
        return FREE.key if over else str(plan)
    if status == "past_due" and grace_end is not None and now < as_utc(grace_end):
        return str(plan)
    return FREE.key


def next_grace_end(status: str, previous: datetime | None, now: datetime) -> datetime | None:
    """The grace of a past_due subscription starts at the first failed payment and is
    not restarted by the provider's retries; any other status ends it (pure)."""
    if status != "past_due":
        return None
    return previous if previous is not None else now + GRACE


def billing_of(session: Session, team_id: int) -> TeamBilling | None:
    return session.get(TeamBilling, team_id)


def billing_of_customer(session: Session, customer_id: str) -> TeamBilling | None:
    return session.scalar(select(TeamBilling).where(TeamBilling.customer_id == customer_id))


def record_customer(session: Session, team_id: int, customer_id: str) -> TeamBilling:
    """The team's billing row, made with its new customer if it had none."""
    found = billing_of(session, team_id)
    if found is None:
        found = TeamBilling(team_id=team_id, customer_id=customer_id)
        session.add(found)
        session.flush()
    return found


def customers_of_teams(session: Session, team_ids: list[int]) -> list[str]:
    if not team_ids:
        return []
    rows = session.scalars(select(TeamBilling.customer_id).where(TeamBilling.team_id.in_(team_ids)))
    return sorted(rows)


def _team_exists(session: Session, team_id: int) -> bool:
    return session.get(Team, team_id) is not None


def trial_days(row: TeamBilling | None) -> int:
    return 0 if row is not None and (row.had_trial or row.subscription_id) else TRIAL_DAYS


def _adopts(row: TeamBilling, facts: SubscriptionFacts) -> bool:
    """Whether `facts` is the team's subscription from now on: its current one, a first
    one, or a paying one replacing one that is not (an old subscription's late events
    never overwrite the live one)."""
    if row.subscription_id in (None, facts.id):
        return True
    return facts.status in PAYING or row.status not in PAYING


def change_reason(status: str | None, key: str) -> ChangeReason:
    """Why a subscription in `status` moves its team to `key`, for the plan history (pure)."""
    if key != FREE.key:
        return "subscription_updated"
    return "past_due_grace_ended" if status == "past_due" else "cancelled"


def apply_subscription(
    session: Session,
    facts: SubscriptionFacts,
    now: datetime,
    reason: ChangeReason | None = None,
) -> str | None:
    """Store the provider's answer and move the team to the plan it gives (`reason`: why,
    when the caller knows better than the status); the team's plan key, or None when the
    subscription belongs to no team of this instance."""
    row = billing_of_customer(session, facts.customer_id)
    if row is None and facts.team_id is not None and _team_exists(session, facts.team_id):
        row = record_customer(session, facts.team_id, facts.customer_id)
    if row is None:
        log.warning("billing: subscription of an unknown customer ignored")
        return None
    if not _adopts(row, facts):
        return None
    _store(row, facts, now)
    key = _decided(row, now)
    return _move_team(session, row.team_id, key, reason or change_reason(row.status, key), now)


def _decided(row: TeamBilling, now: datetime) -> str:
    return decide_plan(
        status=row.status,
        plan=row.plan,
        current_period_end=row.current_period_end,
        grace_end=row.grace_end,
        now=now,
    )


def _store(row: TeamBilling, facts: SubscriptionFacts, now: datetime) -> None:
    row.grace_end = next_grace_end(
        facts.status, row.grace_end if row.subscription_id == facts.id else None, now
    )
    row.subscription_id, row.status = facts.id, facts.status
    row.plan, row.interval = facts.plan, facts.interval
    row.next_plan = facts.next_plan
    row.current_period_end, row.trial_end = facts.current_period_end, facts.trial_end
    row.cancel_at_period_end = facts.cancel_at_period_end
    row.had_trial = row.had_trial or facts.trial_end is not None
    row.synced_at = now


def _move_team(
    session: Session, team_id: int, key: str, reason: ChangeReason, now: datetime
) -> str:
    team = session.get(Team, team_id)
    if team is not None and (team.plan or FREE.key) != key:
        apply_plan(session, team, key, reason=reason, now=now)
    return key


def expire_grace(session: Session, now: datetime) -> list[int]:
    """Teams whose grace or paid period ran out without word from the provider go to
    Free; the ids of those moved."""
    moved = []
    rows = session.scalars(select(TeamBilling).where(TeamBilling.subscription_id.is_not(None)))
    for row in rows:
        key = _decided(row, now)
        team = session.get(Team, row.team_id)
        if team is not None and key == FREE.key and (team.plan or FREE.key) != key:
            _move_team(session, row.team_id, key, change_reason(row.status, key), now)
            moved.append(row.team_id)
    return moved
