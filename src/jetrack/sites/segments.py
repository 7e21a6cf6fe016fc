"""Segments: a site's saved dashboard filters, personal or site-wide, and who may do what.

Plausible's rules: every role that may read a site's reports may save, use, rename and
delete its own personal segments, which nobody else sees; site segments are seen and used
by everyone who may read the reports (shared links included) and are created, changed and
deleted by editors, admins and owners (the `edit_site` permission here). Whoever saves a
segment last becomes its owner. The filters themselves are checked against the Stats API
schema by the caller (jetrack.stats.segments.check_saved_filters): sites/ does not read
the query schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from jetrack.accounts.permissions import can
from jetrack.i18n.catalogs import gettext_noop
from jetrack.i18n.errors import FieldError
from jetrack.sites.names import CONTROL
from jetrack.store.models import Segment, Site, User, utcnow

PERSONAL, SITE = "personal", "site"
SEGMENT_TYPES = (PERSONAL, SITE)
MAX_SEGMENTS_PER_SITE = 500  # Plausible's limit
MAX_NAME = 255
MANAGE_SITE_SEGMENTS = "edit_site"  # editors, admins, owners


class SegmentError(FieldError):
    """A refused segment change: `field` names the bad input, `status` the HTTP answer
    (400 bad input, 403 not allowed for this role, 404 no such segment for this account)."""

    def __init__(self, field: str, message: str, status: int = 400, **params: Any) -> None:
        super().__init__(field, message, **params)
        self.status = status


def check_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SegmentError(
            "name", gettext_noop("a segment needs a name, e.g. Mobile visitors from Germany")
        )
    name = value.strip()
    if len(name) > MAX_NAME or CONTROL.search(name):
        raise SegmentError(
            "name",
            gettext_noop("must be 1 to {max_name} printable characters"),
            max_name=str(MAX_NAME),
        )
    return name


def check_type(value: Any) -> str:
    if value not in SEGMENT_TYPES:
        raise SegmentError(
            "type", gettext_noop("must be personal (yours alone) or site (everyone's)")
        )
    return str(value)


def may_manage_site_segments(session: Session, user: User, site: Site) -> bool:
    return can(session, user, MANAGE_SITE_SEGMENTS, site)


def _visible_to(user_id: int | None) -> Any:
    """Site segments, and the personal ones of `user_id` (None: a shared link's visitor)."""
    if user_id is None:
        return Segment.type == SITE
    return or_(Segment.type == SITE, (Segment.type == PERSONAL) & (Segment.owner_id == user_id))


def visible_segments(session: Session, site: Site, user_id: int | None) -> list[Segment]:
    """What a reader of the site's reports sees, most recently saved first."""
    return list(
        session.scalars(
            select(Segment)
            .where(Segment.site_id == site.id, _visible_to(user_id))
            .order_by(Segment.updated_at.desc(), Segment.id.desc())
        )
    )


def usable_segments(
    session: Session, site_id: int, user_id: int | None, ids: Sequence[int]
) -> list[Segment]:
    """Those of `ids` that the asker may use in a query of the site; the others are absent
    (the engine refuses them by id, the same for a missing and another's segment)."""
    if not ids:
        return []
    return list(
        session.scalars(
            select(Segment).where(
                Segment.site_id == site_id, Segment.id.in_(list(ids)), _visible_to(user_id)
            )
        )
    )


def _require_role_for(session: Session, user: User, site: Site, kind: str) -> None:
    if kind == SITE and not may_manage_site_segments(session, user, site):
        raise SegmentError(
            "type",
            gettext_noop(
                "site segments are created and changed by the site's editors, admins and owners; save it as a personal segment"
            ),
            403,
        )


def _check_filters(filters: Any) -> list[Any]:
    # Their contents were checked against the query schema by the caller.
    if not isinstance(filters, list) or not filters:
        raise SegmentError("filters", gettext_noop("a segment needs at least one filter"))
    return filters


def create_segment(
    session: Session, site: Site, user: User, name: Any, kind: Any, filters: Any
) -> Segment:
    """A new segment owned by `user`; `filters` already checked against the query schema."""
    segment_type = check_type(kind)
    _require_role_for(session, user, site, segment_type)
    count = session.scalar(select(func.count()).where(Segment.site_id == site.id)) or 0
    if count >= MAX_SEGMENTS_PER_SITE:
        raise SegmentError(
            "segment",
            gettext_noop("a site has at most {max_segments_per_site} segments"),
            max_segments_per_site=str(MAX_SEGMENTS_PER_SITE),
        )
    segment = Segment(
        site_id=site.id,
        owner_id=user.id,
        name=check_name(name),
        type=segment_type,
        filters=_check_filters(filters),
    )
    session.add(segment)
    session.flush()
    return segment


def _own_or_site(session: Session, site: Site, user: User, segment_id: int) -> Segment:
    segment = session.get(Segment, segment_id)
    if (
        segment is None
        or segment.site_id != site.id
        or (segment.type == PERSONAL and segment.owner_id != user.id)
    ):
        raise SegmentError("segment", gettext_noop("no such segment"), 404)
    return segment


def update_segment(
    session: Session,
    site: Site,
    user: User,
    segment_id: int,
    *,
    name: Any = None,
    kind: Any = None,
    filters: Any = None,
) -> Segment:
    """Rename, re-file (personal <-> site) or replace the filters of a segment; None leaves
    a field as it is. A site segment, or making one, needs the editor role or above."""
    segment = _own_or_site(session, site, user, segment_id)
    _require_role_for(session, user, site, segment.type)
    new_type = segment.type if kind is None else check_type(kind)
    _require_role_for(session, user, site, new_type)
    if name is not None:
        segment.name = check_name(name)
    if filters is not None:
        segment.filters = _check_filters(filters)
    segment.type = new_type
    segment.owner_id = user.id  # whoever saves it last owns it, as in Plausible
    segment.updated_at = utcnow()
    session.flush()
    return segment


def delete_segment(session: Session, site: Site, user: User, segment_id: int) -> None:
    segment = _own_or_site(session, site, user, segment_id)
    _require_role_for(session, user, site, segment.type)
    session.delete(segment)
    session.flush()


def segments_of_account(session: Session, user_id: int) -> list[Segment]:
    """Every segment the account owns, on any site (its data export)."""
    return list(
        session.scalars(select(Segment).where(Segment.owner_id == user_id).order_by(Segment.id))
    )


def forget_account(session: Session, user_id: int) -> None:
    """Before an account is erased: its personal segments go, its site segments stay with
    the site, without an owner."""
    session.execute(delete(Segment).where(Segment.owner_id == user_id, Segment.type == PERSONAL))
    session.execute(update(Segment).where(Segment.owner_id == user_id).values(owner_id=None))
