"""Goals: create, find, rename, delete and list a site's conversions, with validation.

A goal is a custom event name or a page path (`*` within one path segment, `**` across
segments, as Plausible documents them), optionally narrowed to events carrying given
custom property values. A custom event goal may have a currency (ISO 4217): a revenue goal,
whose events' revenue the Stats API sums in that currency (jetrack.stats.revenue); like
Plausible's, it is chosen when the goal is created. Goals are matched when a report is asked for
(jetrack.stats.filters.goal_match_sql), so events sent before a goal existed count for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jetrack.i18n.catalogs import gettext_noop
from jetrack.i18n.errors import FieldError
from jetrack.sites.funnels import forget_goal
from jetrack.sites.names import CONTROL, printable_name
from jetrack.store.models import Goal, Site

# ISO 4217 codes that are not money (precious metals, SDRs, units of account, testing).
_NOT_MONEY = frozenset(
    {"XAG", "XAU", "XPD", "XPT", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA", "XTS", "XXX"}
)

GOAL_TYPES = ("event", "page")
MAX_GOALS_PER_SITE = 500  # every goal is one branch of a report's SQL
MAX_GOAL_PROPS = 3  # Plausible's limit
MAX_EVENT_NAME = 120
MAX_PAGE_PATH = 2000
MAX_DISPLAY_NAME = 200
MAX_PROP_KEY = 300
MAX_PROP_VALUE = 2000
# Names the tracker uses itself: a goal on them would count every page or every ping.
RESERVED_EVENT_NAMES = frozenset({"pageview", "engagement"})


class GoalError(FieldError):
    """Invalid goal input; `field` names the bad field."""


@dataclass(frozen=True)
class GoalSpec:
    """A validated goal: exactly one of event_name and page_path is set."""

    event_name: str | None
    page_path: str | None
    custom_props: dict[str, str]
    display_name: str
    currency: str | None = None

    @property
    def goal_type(self) -> str:
        return "event" if self.event_name is not None else "page"


def goal_type(goal: Goal) -> str:
    return "event" if goal.event_name is not None else "page"


def check_event_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise GoalError("event_name", gettext_noop("is required for an event goal, e.g. Signup"))
    name = value.strip()
    if len(name) > MAX_EVENT_NAME or CONTROL.search(name):
        raise GoalError(
            "event_name",
            gettext_noop("must be at most {max_event_name} printable characters"),
            max_event_name=str(MAX_EVENT_NAME),
        )
    if name in RESERVED_EVENT_NAMES:
        raise GoalError(
            "event_name",
            gettext_noop("'{name}' is reserved; use a page goal instead"),
            name=str(name),
        )
    return name


def check_page_path(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise GoalError(
            "page_path", gettext_noop("is required for a page goal, e.g. /signup or /blog/**")
        )
    path = value.strip()
    if not path.startswith("/"):
        raise GoalError("page_path", gettext_noop("must start with /, e.g. /signup or /blog/*"))
    if len(path) > MAX_PAGE_PATH or CONTROL.search(path) or " " in path:
        raise GoalError(
            "page_path",
            gettext_noop("must be at most {max_page_path} characters, without spaces"),
            max_page_path=str(MAX_PAGE_PATH),
        )
    if "***" in path:
        raise GoalError(
            "page_path", gettext_noop("use * for one path segment or ** for any depth, not ***")
        )
    return path


def check_custom_props(props: Any) -> dict[str, str]:
    if props is None:
        return {}
    if not isinstance(props, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in props.items()
    ):
        raise GoalError(
            "custom_props", gettext_noop("must be a map with string keys and string values")
        )
    if len(props) > MAX_GOAL_PROPS:
        raise GoalError(
            "custom_props",
            gettext_noop("use at most {max_goal_props} properties per goal"),
            max_goal_props=str(MAX_GOAL_PROPS),
        )
    for key, value in props.items():
        if not key.strip() or len(key) > MAX_PROP_KEY or CONTROL.search(key):
            raise GoalError(
                "custom_props",
                gettext_noop("property names are 1 to {max_prop_key} characters"),
                max_prop_key=str(MAX_PROP_KEY),
            )
        if len(value) > MAX_PROP_VALUE:
            raise GoalError(
                "custom_props",
                gettext_noop("values are at most {max_prop_value} characters"),
                max_prop_value=str(MAX_PROP_VALUE),
            )
    return {k.strip(): v for k, v in sorted(props.items())}


def currencies() -> dict[str, str]:
    """The currencies a revenue goal may have: ISO 4217 code -> name."""
    import pycountry

    return {c.alpha_3: c.name for c in pycountry.currencies if c.alpha_3 not in _NOT_MONEY}


def check_currency(value: Any, goal_type: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or value.strip().upper() not in currencies():
        raise GoalError(
            "currency", gettext_noop("must be a three-letter ISO 4217 currency code, e.g. EUR")
        )
    if goal_type != "event":
        raise GoalError(
            "currency", gettext_noop("only custom event goals have a currency (revenue goals)")
        )
    return value.strip().upper()


def check_display_name(name: str) -> str:
    clean = printable_name(name, MAX_DISPLAY_NAME)
    if clean is None:
        raise GoalError(
            "display_name",
            gettext_noop("must be 1 to {max_display_name} printable characters"),
            max_display_name=str(MAX_DISPLAY_NAME),
        )
    return clean


def default_display_name(
    event_name: str | None, page_path: str | None, custom_props: dict[str, str]
) -> str:
    """Plausible's defaults ("Signup", "Visit /signup"), with the properties appended so two
    goals on one event with different properties get different names."""
    base = event_name if event_name is not None else f"Visit {page_path}"
    if not custom_props:
        return base
    return f"{base} ({', '.join(f'{k}={v}' for k, v in custom_props.items())})"[:MAX_DISPLAY_NAME]


def goal_spec(
    goal_type: Any,
    *,
    event_name: Any = None,
    page_path: Any = None,
    custom_props: Any = None,
    display_name: Any = None,
    currency: Any = None,
) -> GoalSpec:
    """Validate a goal; the first bad field raises GoalError."""
    if goal_type not in GOAL_TYPES:
        raise GoalError("goal_type", gettext_noop("must be event or page"))
    event = check_event_name(event_name) if goal_type == "event" else None
    page = check_page_path(page_path) if goal_type == "page" else None
    props = check_custom_props(custom_props)
    if display_name is not None and not isinstance(display_name, str):
        raise GoalError("display_name", gettext_noop("must be a string"))
    name = (
        check_display_name(display_name)
        if display_name and display_name.strip()
        else default_display_name(event, page, props)
    )
    return GoalSpec(event, page, props, name, check_currency(currency, goal_type))


def list_goals(session: Session, site: Site) -> list[Goal]:
    """The site's goals, newest first."""
    return list(
        session.scalars(select(Goal).where(Goal.site_id == site.id).order_by(Goal.id.desc()))
    )


def get_goal(session: Session, site: Site, goal_id: int) -> Goal | None:
    goal = session.get(Goal, goal_id)
    return goal if goal is not None and goal.site_id == site.id else None


def find_goal(session: Session, site: Site, spec: GoalSpec) -> Goal | None:
    """The site's goal counting the same events as `spec` (its display name aside)."""
    for goal in list_goals(session, site):
        if (
            goal.event_name == spec.event_name
            and goal.page_path == spec.page_path
            and dict(goal.custom_props or {}) == spec.custom_props
        ):
            return goal
    return None


def _name_taken(session: Session, site: Site, name: str, but: int | None = None) -> bool:
    found = session.scalar(select(Goal).where(Goal.site_id == site.id, Goal.display_name == name))
    return found is not None and found.id != but


def create_goal(session: Session, site: Site, spec: GoalSpec) -> Goal:
    existing = find_goal(session, site, spec)
    if existing is not None:
        raise GoalError(
            "goal",
            gettext_noop("this goal already exists as '{display_name}'"),
            display_name=str(existing.display_name),
        )
    if _name_taken(session, site, spec.display_name):
        raise GoalError(
            "display_name",
            gettext_noop("another goal of this site is already named '{display_name}'"),
            display_name=str(spec.display_name),
        )
    if len(list_goals(session, site)) >= MAX_GOALS_PER_SITE:
        raise GoalError(
            "goal",
            gettext_noop("a site has at most {max_goals_per_site} goals"),
            max_goals_per_site=str(MAX_GOALS_PER_SITE),
        )
    goal = Goal(
        site_id=site.id,
        event_name=spec.event_name,
        page_path=spec.page_path,
        custom_props=dict(spec.custom_props),
        display_name=spec.display_name,
        currency=spec.currency,
    )
    session.add(goal)
    session.flush()
    session.expire(site, ["goals"])
    return goal


def find_or_create_goal(session: Session, site: Site, spec: GoalSpec) -> Goal:
    """The existing goal counting the same events, or a new one (the Sites API's PUT)."""
    return find_goal(session, site, spec) or create_goal(session, site, spec)


def rename_goal(session: Session, site: Site, goal_id: int, display_name: str) -> Goal:
    goal = get_goal(session, site, goal_id)
    if goal is None:
        raise GoalError("goal", gettext_noop("no such goal on this site"))
    name = check_display_name(display_name)
    if _name_taken(session, site, name, but=goal.id):
        raise GoalError(
            "display_name",
            gettext_noop("another goal of this site is already named '{name}'"),
            name=str(name),
        )
    goal.display_name = name
    session.flush()
    return goal


def delete_goal(session: Session, site: Site, goal_id: int) -> bool:
    """Delete one goal; False when the site has no such goal. Its events stay; the funnels
    it would leave with fewer than 2 steps go too, the others lose its step."""
    goal = get_goal(session, site, goal_id)
    if goal is None:
        return False
    forget_goal(session, goal)
    session.delete(goal)
    session.flush()
    session.expire(site, ["goals"])
    return True
