"""Funnels: create, rename, delete and list a site's funnels, with validation.

A funnel is a name and 2 to 8 ordered steps, each step a different goal of the same site.
It is counted when a report asks for it (jetrack.stats.funnel): steps completed in order
within one visit. Deleting a goal deletes the steps it is (the database cascades), and a
funnel left with fewer than 2 steps goes with it (`forget_goal`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from jetrack.i18n.catalogs import gettext_noop
from jetrack.i18n.errors import FieldError
from jetrack.sites.names import printable_name
from jetrack.store.models import Funnel, FunnelStep, Goal, Site

MIN_STEPS = 2
MAX_STEPS = 8
MAX_NAME = 120
MAX_FUNNELS_PER_SITE = 100
MAX_ID = 2**31 - 1  # ids are 32-bit integers in both databases


class FunnelError(FieldError):
    """Invalid funnel input; `field` names the bad field (`name`, `steps`, `funnel`)."""


def check_name(value: Any) -> str:
    name = printable_name(value, MAX_NAME)
    if name is None:
        raise FunnelError(
            "name",
            gettext_noop("must be 1 to {max_name} printable characters, e.g. Signup"),
            max_name=str(MAX_NAME),
        )
    return name


def _goal_id(value: Any, position: int) -> int:
    if isinstance(value, bool):
        value = None  # True is an int to Python, not a goal id
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise FunnelError(
            "steps",
            gettext_noop("step {position} must be the id of a goal of this site"),
            position=str(position),
        )
    return value


def step_goals(session: Session, site: Site, goal_ids: Any) -> list[Goal]:
    """The goals of the steps, in order; FunnelError names the first bad step."""
    if not isinstance(goal_ids, list | tuple):
        raise FunnelError(
            "steps", gettext_noop("must be a list of goal ids, one per step, in order")
        )
    if not MIN_STEPS <= len(goal_ids) <= MAX_STEPS:
        raise FunnelError(
            "steps",
            gettext_noop(
                "a funnel has {min_steps} to {max_steps} steps, each a goal of this site; got {count}"
            ),
            min_steps=str(MIN_STEPS),
            max_steps=str(MAX_STEPS),
            count=str(len(goal_ids)),
        )
    goals: list[Goal] = []
    for position, raw in enumerate(goal_ids, start=1):
        goal_id = _goal_id(raw, position)
        goal = session.get(Goal, goal_id)
        # Another site's goal reads as missing: ids of other tenants are not confirmed.
        if goal is None or goal.site_id != site.id:
            raise FunnelError(
                "steps",
                gettext_noop("step {position}: this site has no goal {goal_id}"),
                position=str(position),
                goal_id=str(goal_id),
            )
        if goal in goals:
            raise FunnelError(
                "steps",
                gettext_noop(
                    "step {position} repeats the goal '{display_name}'; each goal can be one step of a funnel"
                ),
                position=str(position),
                display_name=str(goal.display_name),
            )
        goals.append(goal)
    return goals


def list_funnels(session: Session, site: Site) -> list[Funnel]:
    """The site's funnels by name, their steps and goals loaded (pages render them after
    the unit of work)."""
    return list(
        session.scalars(
            select(Funnel)
            .where(Funnel.site_id == site.id)
            .order_by(Funnel.name, Funnel.id)
            .options(selectinload(Funnel.steps).selectinload(FunnelStep.goal))
        )
    )


def get_funnel(session: Session, site: Site, funnel_id: int) -> Funnel | None:
    return find_funnel(session, site.id, funnel_id)


def find_funnel(session: Session, site_id: int, funnel_id: int) -> Funnel | None:
    """The funnel of that site with that id; None for another site's (no existence leak)."""
    funnel = session.get(Funnel, funnel_id)
    return funnel if funnel is not None and funnel.site_id == site_id else None


def funnel_menu(session: Session, site: Site) -> list[dict[str, Any]]:
    """The site's funnels as the APIs and the dashboard's menu list them."""
    return [
        {"id": funnel.id, "name": funnel.name, "steps": step_names(funnel)}
        for funnel in list_funnels(session, site)
    ]


def _name_taken(session: Session, site: Site, name: str, but: int | None = None) -> bool:
    found = session.scalar(select(Funnel).where(Funnel.site_id == site.id, Funnel.name == name))
    return found is not None and found.id != but


def create_funnel(session: Session, site: Site, name: Any, goal_ids: Any) -> Funnel:
    """A new funnel; FunnelError names the first bad field (name first, then steps)."""
    clean = check_name(name)
    if _name_taken(session, site, clean):
        raise FunnelError(
            "name", gettext_noop("this site already has a funnel named '{clean}'"), clean=str(clean)
        )
    goals = step_goals(session, site, goal_ids)
    count = session.scalar(select(func.count(Funnel.id)).where(Funnel.site_id == site.id)) or 0
    if count >= MAX_FUNNELS_PER_SITE:
        raise FunnelError(
            "funnel",
            gettext_noop("a site has at most {max_funnels_per_site} funnels"),
            max_funnels_per_site=str(MAX_FUNNELS_PER_SITE),
        )
    funnel = Funnel(site_id=site.id, name=clean)
    funnel.steps = [
        FunnelStep(step_order=order, goal=goal) for order, goal in enumerate(goals, start=1)
    ]
    session.add(funnel)
    session.flush()
    return funnel


def rename_funnel(session: Session, site: Site, funnel_id: int, name: Any) -> Funnel:
    funnel = get_funnel(session, site, funnel_id)
    if funnel is None:
        raise FunnelError("funnel", gettext_noop("no such funnel on this site"))
    clean = check_name(name)
    if _name_taken(session, site, clean, but=funnel.id):
        raise FunnelError(
            "name", gettext_noop("this site already has a funnel named '{clean}'"), clean=str(clean)
        )
    funnel.name = clean
    session.flush()
    return funnel


def delete_funnel(session: Session, site: Site, funnel_id: int) -> bool:
    """Delete one funnel; False when the site has no such funnel. Goals and events stay."""
    funnel = get_funnel(session, site, funnel_id)
    if funnel is None:
        return False
    session.delete(funnel)
    session.flush()
    return True


def forget_goal(session: Session, goal: Goal) -> list[str]:
    """Before `goal` is deleted: delete the funnels it would leave with fewer than 2 steps
    (the others lose that step when the database cascades). Returns their names."""
    using = session.scalars(
        select(Funnel).join(FunnelStep).where(FunnelStep.goal_id == goal.id)
    ).all()
    gone = [funnel for funnel in using if len(funnel.steps) - 1 < MIN_STEPS]
    for funnel in gone:
        session.delete(funnel)
    for funnel in using:
        if funnel not in gone:
            funnel.steps = [step for step in funnel.steps if step.goal_id != goal.id]
    session.flush()
    return [funnel.name for funnel in gone]


def step_names(funnel: Funnel) -> list[str]:
    return [step.goal.display_name for step in funnel.steps]
