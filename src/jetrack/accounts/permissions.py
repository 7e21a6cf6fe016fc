"""Every permission check in Jetrack, deny by default: who may do what to which site or team."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from jetrack.store.models import Membership, Site, SiteGuest, Team, TotpCredential, User

# Team roles, then per-site guest roles. A role not listed here may do nothing.
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "owner": frozenset(
        {
            "view_stats",
            "view_settings",
            "edit_site",
            "delete_site",
            "manage_members",
            "manage_owners",
            "manage_shared_links",
            "manage_team",
            "add_site",
            "manage_imports",
            "view_plan",
            "manage_billing",
        }
    ),
    "admin": frozenset(
        {
            "view_stats",
            "view_settings",
            "edit_site",
            "manage_members",
            "manage_shared_links",
            "add_site",
            "manage_imports",
            "view_plan",
        }
    ),
    "viewer": frozenset({"view_stats", "view_plan"}),
    "guest_editor": frozenset({"view_stats", "view_settings", "edit_site"}),
    "guest_viewer": frozenset({"view_stats"}),
}
TEAM_ROLES = ("owner", "admin", "viewer")
GUEST_ROLES = ("editor", "viewer")  # stored in SiteGuest.role; acting as guest_<role>
# What any account may do to itself (admin_instance needs User.is_admin).
ACCOUNT_ACTIONS = frozenset({"manage_api_keys", "manage_account"})


def _has_2fa(session: Session, user: User) -> bool:
    credential = session.scalar(select(TotpCredential).where(TotpCredential.user_id == user.id))
    return credential is not None and credential.enabled_at is not None


def team_role(session: Session, user: User | None, team: Team) -> str | None:
    """The user's role in a team, or None. A team that requires 2FA gives no role to an
    account without it."""
    if user is None or user.locked_at is not None:
        return None
    membership = session.scalar(
        select(Membership).where(Membership.team_id == team.id, Membership.user_id == user.id)
    )
    if membership is None or membership.role not in TEAM_ROLES:
        return None
    if team.require_2fa and not _has_2fa(session, user):
        return None
    return membership.role


def site_role(session: Session, user: User | None, site: Site) -> str | None:
    """The role that governs what the user may do with a site, or None (a stranger)."""
    if user is None or user.locked_at is not None:
        return None
    if site.team_id is None:
        # A site from before teams existed: its owner alone.
        return "owner" if site.owner_id == user.id else None
    team = session.get(Team, site.team_id)
    if team is None:
        return None
    role = team_role(session, user, team)
    if role is not None:
        return role
    guest = session.scalar(
        select(SiteGuest).where(SiteGuest.site_id == site.id, SiteGuest.user_id == user.id)
    )
    if guest is None or guest.role not in GUEST_ROLES:
        return None
    if team.require_2fa and not _has_2fa(session, user):
        return None
    return f"guest_{guest.role}"


def site_roles(session: Session, user: User | None, sites: Sequence[Site]) -> dict[int, str | None]:
    """site_role of each site, asking the store once per team rather than once per site: a
    team role governs every site of its team, so only sites without one look further."""
    team_roles: dict[int, str] = {}
    roles: dict[int, str | None] = {}
    for site in sites:
        known = team_roles.get(site.team_id) if site.team_id is not None else None
        role = known or site_role(session, user, site)
        if site.team_id is not None and role in TEAM_ROLES:
            team_roles[site.team_id] = role
        roles[site.id] = role
    return roles


def allowed_actions(role: str | None) -> frozenset[str]:
    """What a site role may do (nothing for None or an unknown role)."""
    return ROLE_ACTIONS.get(role, frozenset()) if role is not None else frozenset()


def can(session: Session, user: User | None, action: str, target: Site | Team | None) -> bool:
    """May `user` do `action` to `target` (a site, a team, or None for account actions)?
    Anything not granted explicitly is denied."""
    if user is None or user.locked_at is not None:
        return False
    if target is None:
        if action == "admin_instance":
            return user.is_admin
        return action in ACCOUNT_ACTIONS
    if isinstance(target, Site):
        role = site_role(session, user, target)
    elif isinstance(target, Team):
        role = team_role(session, user, target)
    else:
        return False
    return role is not None and action in ROLE_ACTIONS.get(role, frozenset())


def site_for(session: Session, user: User | None, domain: str, action: str) -> Site:
    """The site if the user may do `action` to it; 404 otherwise, so that a site the user
    may not see is indistinguishable from one that does not exist."""
    site = session.scalar(select(Site).where(Site.domain == domain.strip().lower()))
    if site is None or not can(session, user, action, site):
        raise HTTPException(404, "no such site")
    return site


def team_for(session: Session, user: User | None, team_id: int, action: str) -> Team:
    team = session.get(Team, team_id)
    if team is None or not can(session, user, action, team):
        raise HTTPException(404, "no such team")
    return team


def visible_sites(session: Session, user: User | None) -> list[Site]:
    """Every site whose stats the user may view, by domain."""
    if user is None or user.locked_at is not None:
        return []
    team_ids = select(Membership.team_id).where(Membership.user_id == user.id)
    guest_site_ids = select(SiteGuest.site_id).where(SiteGuest.user_id == user.id)
    candidates = session.scalars(
        select(Site)
        .where(
            or_(
                Site.team_id.in_(team_ids),
                Site.id.in_(guest_site_ids),
                Site.team_id.is_(None) & (Site.owner_id == user.id),
            )
        )
        .order_by(Site.domain)
    )
    sites = list(candidates)
    roles = site_roles(session, user, sites)
    return [site for site in sites if "view_stats" in allowed_actions(roles[site.id])]


def teams_of(session: Session, user: User, action: str = "view_stats") -> list[Team]:
    """Teams in which the user holds a role that allows `action` (e.g. "add_site")."""
    teams = session.scalars(
        select(Team)
        .join(Membership, Membership.team_id == Team.id)
        .where(Membership.user_id == user.id)
        .order_by(Team.name)
    )
    return [
        team
        for team in teams
        if (role := team_role(session, user, team)) is not None
        and (action == "view_stats" or action in ROLE_ACTIONS[role])
    ]


def may_assign(session: Session, user: User | None, team: Team, role: str) -> bool:
    """May the user give (or take away) this team role? Owners alone handle owners."""
    action = "manage_owners" if role == "owner" else "manage_members"
    return can(session, user, action, team)
