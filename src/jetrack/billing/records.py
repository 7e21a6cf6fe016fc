"""What the provider holds about the teams an account owns: shown on the account page and
written into the account's export, read live (Jetrack stores none of it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jetrack.billing import provider
from jetrack.billing.changes import plan_history
from jetrack.config import Settings
from jetrack.store.models import Membership, Team, TeamBilling


@dataclass(frozen=True, slots=True)
class TeamCustomer:
    team_id: int
    team_name: str
    customer_id: str


def _owned_teams(session: Session, user_id: int) -> list[Team]:
    return list(
        session.scalars(
            select(Team)
            .join(Membership, Membership.team_id == Team.id)
            .where(Membership.user_id == user_id, Membership.role == "owner")
            .order_by(Team.name, Team.id)
        )
    )


def plan_history_document(session: Session, user_id: int) -> list[dict[str, Any]]:
    """The plan changes of each team `user_id` owns, oldest first, for the export."""
    return [
        {
            "team_id": team.id,
            "team": team.name,
            "changes": [
                {
                    "from": change.from_plan,
                    "to": change.to_plan,
                    "reason": change.reason,
                    "at": change.changed_at.isoformat(),
                }
                for change in plan_history(session, team.id)
            ],
        }
        for team in _owned_teams(session, user_id)
    ]


def owned_customers(session: Session, user_id: int) -> list[TeamCustomer]:
    """The customers of the teams `user_id` owns, by team name."""
    rows = session.execute(
        select(Team.id, Team.name, TeamBilling.customer_id)
        .join(Membership, Membership.team_id == Team.id)
        .join(TeamBilling, TeamBilling.team_id == Team.id)
        .where(Membership.user_id == user_id, Membership.role == "owner")
        .order_by(Team.name, Team.id)
    )
    return [TeamCustomer(team_id, name, customer) for team_id, name, customer in rows]


def invoices_document(settings: Settings, customer: TeamCustomer) -> dict[str, Any]:
    """A team's invoices for the export; raises provider.BillingUnavailable (the export
    job tries again later)."""
    return {
        "team_id": customer.team_id,
        "team": customer.team_name,
        "invoices": [
            {
                "number": invoice.number,
                "date": invoice.created.date().isoformat(),
                "amount": invoice.amount,
                "currency": invoice.currency,
                "status": invoice.status,
                "url": invoice.hosted_url,
            }
            for invoice in provider.invoices(settings, customer.customer_id)
        ],
    }


@dataclass(frozen=True, slots=True)
class TeamDetails:
    customer: TeamCustomer
    details: provider.BillingDetails | None  # None: the provider has no such customer now


def details_of(settings: Settings, customers: list[TeamCustomer]) -> list[TeamDetails]:
    """Each customer's details, read live; raises provider.BillingUnavailable."""
    return [
        TeamDetails(customer, provider.billing_details(settings, customer.customer_id))
        for customer in customers
    ]
