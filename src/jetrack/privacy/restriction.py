"""Restriction of processing: an account's sites keep collecting (storage), but nothing
about them is reported or exported to anyone except the account itself.

What it stops, for every site the account owns (Site.owner_id): dashboards and Stats API
answers for other members, guests and shared links; dashboard exports by others; email
reports (when they exist). What goes on: ingestion and storage, retention, the owner's own
dashboard and data export (access is the owner's right), erasure.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from jetrack.accounts.permissions import can
from jetrack.sites.sites import find_site
from jetrack.store.models import ProcessingRestriction, Site, User


def is_restricted(session: Session, user_id: int) -> bool:
    return session.get(ProcessingRestriction, user_id) is not None


def set_restricted(session: Session, user: User, restricted: bool) -> None:
    row = session.get(ProcessingRestriction, user.id)
    if restricted and row is None:
        session.add(ProcessingRestriction(user_id=user.id))
    elif not restricted and row is not None:
        session.delete(row)


def reporting_allowed(session: Session, site: Site, viewer: User | None) -> bool:
    """May `viewer` (None: a shared link or an API key of someone else) see reports of
    `site`? False while the site's owner restricts processing, unless the viewer is them."""
    if viewer is not None and viewer.id == site.owner_id:
        return True
    return not is_restricted(session, site.owner_id)


def readable_site(session: Session, viewer: User | None, domain: object) -> Site | None:
    """The site whose reports `viewer` may read (dashboard, its export, the Stats API): their
    role grants view_stats and the owner does not restrict processing (or they are the
    owner). None otherwise, alike for a missing site: a restriction is the owner's affair."""
    site = find_site(session, domain) if isinstance(domain, str) and domain else None
    if site is None or not can(session, viewer, "view_stats", site):
        return None
    return site if reporting_allowed(session, site, viewer) else None
