"""A small multi-tenant world for permission tests: one team with every role, guests,
and a stranger with a site of their own."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from jetrack.accounts.login_sessions import start_session
from jetrack.accounts.teams import create_team
from jetrack.accounts.users import create_user
from jetrack.sites.sites import add_site
from jetrack.store.models import (
    Annotation,
    Base,
    Funnel,
    FunnelStep,
    Goal,
    Invitation,
    Membership,
    ReportRecipient,
    Segment,
    SharedLink,
    SiteGuest,
    SiteImport,
    User,
    Webhook,
    utcnow,
)
from jetrack.store.stores import Stores


@dataclass
class Keys:
    """Sites API (`sites`) and Stats API (`stats`) keys by person of the world."""

    sites: dict[str, str]
    stats: dict[str, str]


ROLES = ("owner", "admin", "viewer", "guest_editor", "guest_viewer", "stranger", "anonymous")


@dataclass
class World:
    team_id: int = 0
    other_team_id: int = 0
    site_id: int = 0
    domain: str = "acme.example"
    other_domain: str = "other.example"
    users: dict[str, int] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)


def build_world(stores: Stores) -> World:
    world = World()
    with stores.control.session() as session:
        people = {role: _verified(session, f"{role}@example.com") for role in ROLES[:-1]}
        team = create_team(session, people["owner"], "Acme")
        for role in ("admin", "viewer"):
            session.add(Membership(team_id=team.id, user_id=people[role].id, role=role))
        site = add_site(session, people["owner"], world.domain, team=team)
        session.add(SiteGuest(site_id=site.id, user_id=people["guest_editor"].id, role="editor"))
        session.add(SiteGuest(site_id=site.id, user_id=people["guest_viewer"].id, role="viewer"))
        other = create_team(session, people["stranger"], "Other")
        add_site(session, people["stranger"], world.other_domain, team=other)
        session.flush()
        world.team_id, world.other_team_id, world.site_id = team.id, other.id, site.id
        for role, user in people.items():
            row, token = start_session(session, user)
            world.users[role] = user.id
            world.cookies[role] = token
            world.csrf[role] = row.csrf_token
    return world


def _verified(session: Session, email: str) -> User:
    user = create_user(session, email, name=email.split("@")[0])
    user.email_verified_at = utcnow()
    return user


def disposable_member(session: Session, world: World) -> dict[str, str]:
    user = _verified(session, f"member{utcnow().timestamp()}@example.com")
    session.add(Membership(team_id=world.team_id, user_id=user.id, role="viewer"))
    return {"user_id": str(user.id)}


def disposable_guest(session: Session, world: World) -> dict[str, str]:
    user = _verified(session, f"guest{utcnow().timestamp()}@example.com")
    session.add(SiteGuest(site_id=world.site_id, user_id=user.id, role="viewer"))
    return {"user_id": str(user.id)}


def disposable_invitation(session: Session, world: World, *, site: bool) -> dict[str, str]:
    invitation = Invitation(
        team_id=world.team_id,
        site_id=world.site_id if site else None,
        email=f"invitee{utcnow().timestamp()}@example.com",
        role="viewer",
        token_hash=f"{utcnow().timestamp():064}"[-64:],
        expires_at=utcnow().replace(year=utcnow().year + 1),
    )
    session.add(invitation)
    session.flush()
    return {"invitation_id": str(invitation.id)}


def disposable_link(session: Session, world: World) -> dict[str, str]:
    link = SharedLink(site_id=world.site_id, slug=f"s{utcnow().timestamp()}", name="walk")
    session.add(link)
    session.flush()
    return {"link_id": str(link.id)}


def disposable_goal(session: Session, world: World) -> dict[str, str]:
    goal = Goal(site_id=world.site_id, event_name="Walk", display_name=f"g{utcnow().timestamp()}")
    session.add(goal)
    session.flush()
    return {"goal_id": str(goal.id)}


def disposable_recipient(session: Session, world: World) -> dict[str, str]:
    recipient = ReportRecipient(
        site_id=world.site_id, email=f"r{utcnow().timestamp()}@client.example", kind="week"
    )
    session.add(recipient)
    session.flush()
    return {"recipient_id": str(recipient.id)}


def disposable_webhook(session: Session, world: World) -> dict[str, str]:
    hook = Webhook(
        site_id=world.site_id, url="https://hooks.example/x", kinds=["week"], secret="s" * 64
    )
    session.add(hook)
    session.flush()
    return {"webhook_id": str(hook.id)}


def disposable_import(session: Session, world: World) -> dict[str, str]:
    record = SiteImport(site_id=world.site_id, kind="plausible", source="walk.zip", status="done")
    session.add(record)
    session.flush()
    return {"import_id": str(record.id)}


def disposable_site_segment(session: Session, world: World) -> dict[str, str]:
    segment = Segment(
        site_id=world.site_id,
        owner_id=world.users["owner"],
        name=f"walk {utcnow().timestamp()}",
        type="site",
        filters=[["is", "visit:country", ["DE"]]],
    )
    session.add(segment)
    session.flush()
    return {"segment_id": str(segment.id)}


def disposable_annotation(session: Session, world: World) -> dict[str, str]:
    note = Annotation(site_id=world.site_id, day=utcnow().date(), text=f"walk {utcnow()}")
    session.add(note)
    session.flush()
    return {"annotation_id": str(note.id)}


def disposable_funnel(session: Session, world: World) -> dict[str, str]:
    stamp = utcnow().timestamp()
    goals = [
        Goal(site_id=world.site_id, event_name=f"F{n}", display_name=f"f{n}-{stamp}")
        for n in (1, 2)
    ]
    session.add_all(goals)
    session.flush()
    funnel = Funnel(site_id=world.site_id, name=f"walk {stamp}")
    funnel.steps = [FunnelStep(step_order=n, goal_id=g.id) for n, g in enumerate(goals, 1)]
    session.add(funnel)
    session.flush()
    return {"funnel_id": str(funnel.id)}


def snapshot(stores: Stores) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every control table, to prove a refused request changed nothing (read
    as plain rows, not ORM objects: the role walk takes two per request)."""
    tables: dict[str, list[tuple[object, ...]]] = {}
    with stores.control.session() as session:
        for table in Base.metadata.sorted_tables:
            if table.name == "jobs":
                continue  # the background job runner writes it on its own schedule
            columns = [c for c in table.c if (table.name, c.name) != TOUCHED]
            rows = session.execute(select(*columns)).all()
            tables[table.name] = sorted(tuple(str(value) for value in row) for row in rows)
    return tables


TOUCHED = ("user_sessions", "last_seen_at")  # by any signed-in request
