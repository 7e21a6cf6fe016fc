"""A site's allowed custom property keys (Plausible's "custom properties" setting)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from jetrack.i18n.catalogs import gettext_noop
from jetrack.i18n.errors import FieldError
from jetrack.sites.goals import MAX_PROP_KEY
from jetrack.store.models import Site

MAX_ALLOWED_PROPS = 300


class PropError(FieldError):
    """An allowed property that cannot be added."""


def list_props(site: Site) -> list[str]:
    """Allowed keys in the order they were added."""
    return list(site.allowed_props or [])


def allow_prop(session: Session, site: Site, key: str) -> list[str]:
    """Add a key to the allow-list (already there: no change)."""
    key = key.strip()
    if not key:
        raise PropError("property", gettext_noop("is required"))
    if len(key) > MAX_PROP_KEY:
        raise PropError(
            "property",
            gettext_noop("is too long (at most {max_prop_key} characters)"),
            max_prop_key=str(MAX_PROP_KEY),
        )
    props = list_props(site)
    if key in props:
        return props
    if len(props) >= MAX_ALLOWED_PROPS:
        raise PropError(
            "property",
            gettext_noop("a site allows at most {max_allowed_props} properties"),
            max_allowed_props=str(MAX_ALLOWED_PROPS),
        )
    # A new list: SQLAlchemy sees a JSON column change only when the value is replaced.
    site.allowed_props = [*props, key]
    session.flush()
    return list_props(site)


def disallow_prop(session: Session, site: Site, key: str) -> list[str]:
    """Remove a key (absent: no change)."""
    site.allowed_props = [p for p in list_props(site) if p != key]
    session.flush()
    return list_props(site)
