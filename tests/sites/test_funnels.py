"""Funnels in the control store, on SQLite and PostgreSQL: 2 to 8 steps of the site's own
goals, each once; names unique per site; deleting a goal takes its step (and a funnel left
with one step) with it; deleting the site takes its funnels."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jetrack.accounts.users import create_user
from jetrack.sites import funnels
from jetrack.sites.funnels import FunnelError, create_funnel
from jetrack.sites.goals import create_goal, delete_goal, goal_spec
from jetrack.sites.sites import add_site, delete_site
from jetrack.store.control import ControlStore
from jetrack.store.models import Funnel, FunnelStep, Goal, Site


def _site(session: Session, domain: str, goals: int) -> tuple[Site, list[int]]:
    owner = create_user(session, f"owner@{domain}")
    site = add_site(session, owner, domain)
    made = [
        create_goal(session, site, goal_spec("event", event_name=f"Step{n}")).id
        for n in range(1, goals + 1)
    ]
    return site, made


def test_create_list_rename_delete(control: ControlStore) -> None:
    with control.session() as session:
        site, goal_ids = _site(session, "a.example", 8)
        two = create_funnel(session, site, "  Signup  ", goal_ids[:2])
        eight = create_funnel(session, site, "All eight", [str(g) for g in goal_ids])
        assert two.name == "Signup"
        assert funnels.step_names(two) == ["Step1", "Step2"]
        assert funnels.step_names(eight) == [f"Step{n}" for n in range(1, 9)]
        assert [f.name for f in funnels.list_funnels(session, site)] == ["All eight", "Signup"]
        funnels.rename_funnel(session, site, two.id, "Sign-ups")
        with pytest.raises(FunnelError, match="already has a funnel named 'All eight'"):
            funnels.rename_funnel(session, site, two.id, "All eight")
        assert funnels.delete_funnel(session, site, eight.id)
        assert not funnels.delete_funnel(session, site, eight.id)
        assert [f.name for f in funnels.list_funnels(session, site)] == ["Sign-ups"]
        assert session.scalars(select(Goal)).all()  # the goals stay


# (name, steps as indexes into the site's goals or raw values, field, message)
INVALID: list[tuple[Any, Any, str, str]] = [
    ("F", [0], "steps", "a funnel has 2 to 8 steps, each a goal of this site; got 1"),
    ("F", [], "steps", "got 0"),
    ("F", list(range(9)), "steps", "got 9"),
    ("F", [0, "other"], "steps", "step 2: this site has no goal"),
    ("F", [0, 999_999], "steps", "step 2: this site has no goal 999999"),
    ("F", [0, 0], "steps", "step 2 repeats the goal 'Step1'"),
    ("F", [0, "x"], "steps", "step 2 must be the id of a goal of this site"),
    ("F", [0, True], "steps", "step 2 must be the id"),
    ("F", [0, -3], "steps", "step 2 must be the id"),
    ("F", "1,2", "steps", "must be a list of goal ids"),
    ("", [0, 1], "name", "must be 1 to 120 printable characters"),
    ("x" * 121, [0, 1], "name", "1 to 120"),
    ("a\nb", [0, 1], "name", "printable"),
    (None, [0, 1], "name", "printable"),
    ("Taken", [0, 1], "name", "already has a funnel named 'Taken'"),
]


@pytest.mark.parametrize(("name", "steps", "field", "message"), INVALID)
def test_invalid_funnels_are_refused_naming_the_problem(
    control: ControlStore, name: Any, steps: Any, field: str, message: str
) -> None:
    with control.session() as session:
        site, goal_ids = _site(session, "a.example", 9)
        _, other_goals = _site(session, "other.example", 1)
        create_funnel(session, site, "Taken", goal_ids[:2])

        def resolve(step: Any) -> Any:
            if step == "other":
                return other_goals[0]  # another site's goal is no goal of this one
            return goal_ids[step] if isinstance(step, int) and 0 <= step < 9 else step

        raw = [resolve(s) for s in steps] if isinstance(steps, list) else steps
        if steps == [0, True]:
            raw = [goal_ids[0], True]
        with pytest.raises(FunnelError, match=message) as caught:
            create_funnel(session, site, name, raw)
        assert caught.value.field == field
        assert len(funnels.list_funnels(session, site)) == 1


def test_deleting_a_goal_takes_its_step_and_funnels_left_with_one(
    control: ControlStore,
) -> None:
    with control.session() as session:
        site, (a, b, c) = _site(session, "a.example", 3)
        create_funnel(session, site, "Three", [a, b, c])
        create_funnel(session, site, "Two", [a, b])
        create_funnel(session, site, "Other two", [a, c])
    with control.session() as session:
        found = session.get(Site, site.id)
        assert found is not None
        assert delete_goal(session, found, b)
    with control.session() as session:
        found = session.get(Site, site.id)
        assert found is not None
        left = {f.name: funnels.step_names(f) for f in funnels.list_funnels(session, found)}
        assert left == {"Three": ["Step1", "Step3"], "Other two": ["Step1", "Step3"]}
        # A funnel made after a step went numbers its steps afresh; the gap is harmless.
        orders = session.scalars(
            select(FunnelStep.step_order).join(Funnel).where(Funnel.name == "Three")
        ).all()
        assert sorted(orders) == [1, 3]


def test_deleting_the_site_takes_its_funnels(control: ControlStore) -> None:
    with control.session() as session:
        site, goal_ids = _site(session, "a.example", 2)
        create_funnel(session, site, "Two", goal_ids)
        _, kept_goals = _site(session, "b.example", 2)
        other = session.scalar(select(Site).where(Site.domain == "b.example"))
        assert other is not None
        create_funnel(session, other, "Kept", kept_goals)
    with control.session() as session:
        found = session.get(Site, site.id)
        assert found is not None
        delete_site(session, found)
    with control.session() as session:
        assert session.scalars(select(Funnel.name)).all() == ["Kept"]
        assert len(session.scalars(select(FunnelStep)).all()) == 2
