"""Teams, roles, per-site guests and emailed invitations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from jetrack.accounts.permissions import GUEST_ROLES, TEAM_ROLES
from jetrack.accounts.tokens import digest, new_token
from jetrack.accounts.users import AccountError, normalize_email
from jetrack.i18n.catalogs import gettext_noop
from jetrack.store.models import (
    Invitation,
    Membership,
    Segment,
    Site,
    SiteGuest,
    Team,
    User,
    as_utc,
    utcnow,
)

INVITATION_LIFETIME = timedelta(days=7)


class InvitationError(ValueError):
    """An invitation link that cannot be used; the message says why."""


def create_team(session: Session, owner: User, name: str) -> Team:
    name = name.strip()
    if not name or len(name) > 200:
        raise AccountError("name", gettext_noop("must be 1 to 200 characters"))
    team = Team(name=name)
    session.add(team)
    session.flush()
    session.add(Membership(team_id=team.id, user_id=owner.id, role="owner"))
    session.flush()
    return team


def personal_team(session: Session, user: User) -> Team:
    """The first team the user owns; made on demand ("<name>'s sites")."""
    team = session.scalar(
        select(Team)
        .join(Membership, Membership.team_id == Team.id)
        .where(Membership.user_id == user.id, Membership.role == "owner")
        .order_by(Team.id)
    )
    if team is not None:
        return team
    label = user.name or user.email.split("@", 1)[0]
    return create_team(session, user, f"{label}'s sites"[:200])


def members(session: Session, team: Team) -> list[tuple[Membership, User]]:
    rows = session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.team_id == team.id)
        .order_by(User.email)
    )
    return [(membership, user) for membership, user in rows]


def guests(session: Session, site: Site) -> list[tuple[SiteGuest, User]]:
    rows = session.execute(
        select(SiteGuest, User)
        .join(User, User.id == SiteGuest.user_id)
        .where(SiteGuest.site_id == site.id)
        .order_by(User.email)
    )
    return [(guest, user) for guest, user in rows]


def pending_invitations(session: Session, team: Team, site: Site | None = None) -> list[Invitation]:
    query = select(Invitation).where(
        Invitation.team_id == team.id,
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
    )
    query = query.where(
        Invitation.site_id == site.id if site is not None else Invitation.site_id.is_(None)
    )
    now = utcnow()
    return [row for row in session.scalars(query) if as_utc(row.expires_at) > now]


def invite(
    session: Session, inviter: User, team: Team, email: str, role: str, site: Site | None = None
) -> tuple[Invitation, str]:
    """A new invitation and the token for its mailed link (stored only as a digest)."""
    email = normalize_email(email)
    allowed = GUEST_ROLES if site is not None else TEAM_ROLES
    if role not in allowed:
        raise AccountError(
            "role", gettext_noop("must be one of: {values}"), values=str(", ".join(allowed))
        )
    existing = session.scalar(select(User).where(User.email == email))
    if existing is not None:
        if site is None and session.scalar(
            select(Membership).where(
                Membership.team_id == team.id, Membership.user_id == existing.id
            )
        ):
            raise AccountError("email", gettext_noop("this person is already a member of the team"))
        if site is not None and session.scalar(
            select(SiteGuest).where(SiteGuest.site_id == site.id, SiteGuest.user_id == existing.id)
        ):
            raise AccountError("email", gettext_noop("this person already has access to the site"))
    token = new_token()
    invitation = Invitation(
        team_id=team.id,
        site_id=site.id if site is not None else None,
        email=email,
        role=role,
        token_hash=digest(token),
        invited_by_id=inviter.id,
        expires_at=utcnow() + INVITATION_LIFETIME,
    )
    session.add(invitation)
    session.flush()
    return invitation, token


def find_invitation(session: Session, token: str) -> Invitation:
    """The usable invitation for a link token; InvitationError says why one is not."""
    if not token or len(token) > 100:
        raise InvitationError(gettext_noop("This invitation link is not valid."))
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == digest(token)))
    if invitation is None:
        raise InvitationError(gettext_noop("This invitation link is not valid."))
    if invitation.accepted_at is not None:
        raise InvitationError(gettext_noop("This invitation was already accepted."))
    if invitation.revoked_at is not None:
        raise InvitationError(gettext_noop("This invitation was withdrawn."))
    if as_utc(invitation.expires_at) <= utcnow():
        raise InvitationError(gettext_noop("This invitation has expired; ask for a new one."))
    return invitation


def accept_invitation(session: Session, invitation: Invitation, user: User) -> None:
    """Join the team (or become the site's guest); only the invited address may."""
    if user.email != invitation.email:
        raise InvitationError(
            gettext_noop("This invitation was sent to another email address; log in with that one.")
        )
    if invitation.site_id is None:
        membership = session.scalar(
            select(Membership).where(
                Membership.team_id == invitation.team_id, Membership.user_id == user.id
            )
        )
        if membership is None:
            session.add(
                Membership(team_id=invitation.team_id, user_id=user.id, role=invitation.role)
            )
    else:
        guest = session.scalar(
            select(SiteGuest).where(
                SiteGuest.site_id == invitation.site_id, SiteGuest.user_id == user.id
            )
        )
        if guest is None:
            session.add(
                SiteGuest(site_id=invitation.site_id, user_id=user.id, role=invitation.role)
            )
    invitation.accepted_at = utcnow()
    session.flush()


def revoke_invitation(session: Session, team: Team, invitation_id: int) -> bool:
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.team_id != team.id or invitation.accepted_at is not None:
        return False
    invitation.revoked_at = utcnow()
    return True


def _owner_count(session: Session, team: Team) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.team_id == team.id, Membership.role == "owner")
        )
        or 0
    )


def membership_of(session: Session, team: Team, user_id: int) -> Membership | None:
    return session.scalar(
        select(Membership).where(Membership.team_id == team.id, Membership.user_id == user_id)
    )


def change_role(session: Session, team: Team, membership: Membership, role: str) -> None:
    if role not in TEAM_ROLES:
        raise AccountError(
            "role", gettext_noop("must be one of: {values}"), values=str(", ".join(TEAM_ROLES))
        )
    if membership.role == "owner" and role != "owner" and _owner_count(session, team) <= 1:
        raise AccountError(
            "role", gettext_noop("a team needs at least one owner; make someone else owner first")
        )
    membership.role = role


def remove_member(session: Session, team: Team, membership: Membership) -> None:
    if membership.role == "owner" and _owner_count(session, team) <= 1:
        raise AccountError(
            "member", gettext_noop("a team needs at least one owner; make someone else owner first")
        )
    session.delete(membership)
    team_sites = select(Site.id).where(Site.team_id == team.id).scalar_subquery()
    _leave_segments(session, membership.user_id, Segment.site_id.in_(team_sites))


def remove_guest(session: Session, site: Site, user_id: int) -> bool:
    guest = session.scalar(
        select(SiteGuest).where(SiteGuest.site_id == site.id, SiteGuest.user_id == user_id)
    )
    if guest is None:
        return False
    session.delete(guest)
    _leave_segments(session, user_id, Segment.site_id == site.id)
    return True


def _leave_segments(session: Session, user_id: int, on_sites: Any) -> None:
    """Someone who loses access to sites (as Plausible does): their personal segments there
    go, their site segments stay with the site, without an owner."""
    mine = (Segment.owner_id == user_id) & on_sites
    session.execute(delete(Segment).where(mine, Segment.type == "personal"))
    session.execute(update(Segment).where(mine).values(owner_id=None))


def team_of_site(session: Session, site: Site) -> Team | None:
    return session.get(Team, site.team_id) if site.team_id is not None else None


def save_team_settings(session: Session, team: Team, name: str, require_2fa: bool) -> None:
    """The team's settings: its name (1 to 200 characters) and whether members need 2FA."""
    if not name or len(name) > 200:
        raise AccountError("team_name", gettext_noop("must be 1 to 200 characters"))
    team.name, team.require_2fa = name, require_2fa


def revoke_site_invitation(session: Session, site: Site, invitation_id: int) -> bool:
    """Withdraw a guest invitation to `site` (one to another site or a team stays)."""
    invitation = session.get(Invitation, invitation_id)
    team = team_of_site(session, site)
    if invitation is None or invitation.site_id != site.id or team is None:
        return False
    return revoke_invitation(session, team, invitation_id)


def invited_to(session: Session, invitation: Invitation) -> str:
    """What the invitation opens, for its page: the site's domain or the team's name."""
    if invitation.site_id is not None:
        site = session.get(Site, invitation.site_id)
        if site is not None:
            return site.domain
    team = session.get(Team, invitation.team_id)
    return f"the team {team.name if team else ''}"
