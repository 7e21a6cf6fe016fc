"""The Sites API's per-site settings in Plausible's shape: goals, custom properties and
guests. Like jetrack.sites.provisioning: the key owner and the decoded request in, the JSON
answer out, ProvisionError for a refusal."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jetrack.accounts import teams
from jetrack.accounts.users import AccountError, normalize_email
from jetrack.sites import custom_props, goals
from jetrack.sites.provisioning import ProvisionError, paged, required, site_for_key
from jetrack.store.models import Goal, Invitation, Team, User

# --- goals ---------------------------------------------------------------------------------


def goal_json(goal: Goal) -> dict[str, Any]:
    return {
        "id": goal.id,
        "display_name": goal.display_name,
        "goal_type": goals.goal_type(goal),
        "event_name": goal.event_name,
        "page_path": goal.page_path,
        "custom_props": dict(goal.custom_props or {}),
        "currency": goal.currency,
    }


def put_goal(session: Session, user: User, body: dict[str, Any]) -> dict[str, Any]:
    """Find-or-create: the same goal (type, name or path, properties) answers its id again."""
    purpose = "create a goal"
    domain = required(body.get("site_id"), "site_id", purpose)
    goal_type = required(body.get("goal_type"), "goal_type", purpose)
    if goal_type == "event":
        required(body.get("event_name"), "event_name", purpose)
    elif goal_type == "page":
        required(body.get("page_path"), "page_path", purpose)
    site = site_for_key(session, user, domain, "edit_site")
    try:
        spec = goals.goal_spec(
            goal_type,
            event_name=body.get("event_name"),
            page_path=body.get("page_path"),
            custom_props=body.get("custom_props"),
            display_name=body.get("display_name"),
            currency=body.get("currency"),
        )
        goal = goals.find_or_create_goal(session, site, spec)
    except goals.GoalError as exc:
        raise ProvisionError(400, f"{exc.field}: {exc}") from None
    return {**goal_json(goal), "domain": site.domain}


def list_goals(session: Session, user: User, query: dict[str, str]) -> dict[str, Any]:
    domain = required(query.get("site_id"), "site_id", "list goals")
    site = site_for_key(session, user, domain, "view_stats")
    page = paged(goals.list_goals(session, site), lambda g: (-g.id,), query)
    return {"goals": [goal_json(g) for g in page.items], "meta": page.meta()}


def delete_goal(
    session: Session, user: User, goal_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    domain = required(params.get("site_id"), "site_id", "delete a goal")
    site = site_for_key(session, user, domain, "edit_site")
    # Ids are database integers: a longer digit string names no goal (and overflows SQLite).
    if not goal_id.isdigit() or len(goal_id) > 12:
        raise ProvisionError(404, "Goal could not be found")
    if not goals.delete_goal(session, site, int(goal_id)):
        raise ProvisionError(404, "Goal could not be found")
    return {"deleted": True}


# --- custom properties ---------------------------------------------------------------------


def put_custom_prop(session: Session, user: User, body: dict[str, Any]) -> dict[str, Any]:
    purpose = "create a custom property"
    domain = required(body.get("site_id"), "site_id", purpose)
    key = required(body.get("property"), "property", purpose)
    if not isinstance(key, str):
        raise ProvisionError(400, "Parameter `property` must be a string")
    site = site_for_key(session, user, domain, "edit_site")
    try:
        custom_props.allow_prop(session, site, key)
    except custom_props.PropError as exc:
        raise ProvisionError(400, f"Parameter `property` {exc}") from None
    return {"created": True}


def list_custom_props(session: Session, user: User, query: dict[str, str]) -> dict[str, Any]:
    domain = required(query.get("site_id"), "site_id", "list custom properties")
    site = site_for_key(session, user, domain, "view_stats")
    return {"custom_properties": [{"property": p} for p in custom_props.list_props(site)]}


def delete_custom_prop(
    session: Session, user: User, key: str, params: dict[str, Any]
) -> dict[str, Any]:
    domain = required(params.get("site_id"), "site_id", "delete a custom property")
    site = site_for_key(session, user, domain, "edit_site")
    custom_props.disallow_prop(session, site, key)
    return {"deleted": True}


# --- guests --------------------------------------------------------------------------------

GUEST_ROLE_ERROR = (
    "Parameter `role` is required to create guest. Possible values: `viewer` or `editor`"
)


def _guest_rows(session: Session, site: Any) -> list[tuple[tuple[int, int], dict[str, str]]]:
    """(sort key, answer) of the site's guests, accepted first, then pending invitations."""
    rows = [
        ((0, -guest.id), {"email": person.email, "role": guest.role, "status": "accepted"})
        for guest, person in teams.guests(session, site)
    ]
    team = session.get(Team, site.team_id) if site.team_id is not None else None
    if team is not None:
        rows += [
            ((1, -inv.id), {"email": inv.email, "role": inv.role, "status": "invited"})
            for inv in teams.pending_invitations(session, team, site)
        ]
    return rows


def list_guests(session: Session, user: User, query: dict[str, str]) -> dict[str, Any]:
    domain = required(query.get("site_id"), "site_id", "list guests")
    site = site_for_key(session, user, domain, "manage_members")
    page = paged(_guest_rows(session, site), lambda row: row[0], query)
    return {"guests": [answer for _, answer in page.items], "meta": page.meta()}


def put_guest(
    session: Session, user: User, params: dict[str, Any]
) -> tuple[dict[str, Any], Invitation | None, str]:
    """Invite once: an existing guest or pending invitation is answered as it is, and only a
    new invitation is returned (with its token) for the caller to mail."""
    domain = required(params.get("site_id"), "site_id", "create guest")
    email = required(params.get("email"), "email", "create guest")
    role = params.get("role")
    if role not in ("viewer", "editor"):
        raise ProvisionError(400, GUEST_ROLE_ERROR)
    site = site_for_key(session, user, domain, "manage_members")
    try:
        email = normalize_email(str(email))
    except AccountError as exc:
        raise ProvisionError(400, f"email: {exc}") from None
    for _, answer in _guest_rows(session, site):
        if answer["email"] == email:
            return answer, None, ""
    team = session.get(Team, site.team_id) if site.team_id is not None else None
    if team is None:
        raise ProvisionError(400, "this site belongs to no team; edit it once to move it into one")
    try:
        invitation, token = teams.invite(session, user, team, email, role, site=site)
    except AccountError as exc:
        raise ProvisionError(400, f"{exc.field}: {exc}") from None
    return {"email": email, "role": role, "status": "invited"}, invitation, token


def delete_guest(
    session: Session, user: User, email: str, params: dict[str, Any]
) -> dict[str, Any]:
    """Remove the guest or revoke the pending invitation; team members are left alone."""
    domain = required(params.get("site_id"), "site_id", "delete guest")
    site = site_for_key(session, user, domain, "manage_members")
    email = email.strip().lower()
    person = session.scalar(select(User).where(User.email == email))
    if person is not None:
        teams.remove_guest(session, site, person.id)
    team = session.get(Team, site.team_id) if site.team_id is not None else None
    if team is not None:
        for inv in teams.pending_invitations(session, team, site):
            if inv.email == email:
                teams.revoke_invitation(session, team, inv.id)
    return {"deleted": True}
