"""Annotations: dated notes on a site's main graph ("launched on Product Hunt").

A note is a day in the site's time zone, optionally a time of day (HH:MM), and up to 500
characters of text. Everyone who may read the site's reports sees them (shared links too,
read-only); editors, admins and owners (`edit_site`) add and delete them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jetrack.i18n.catalogs import gettext_noop
from jetrack.i18n.errors import FieldError
from jetrack.store.models import Annotation, Site, User

MAX_TEXT = 500
MAX_PER_SITE = 2000
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2199, 12, 31)
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # newlines and tabs are fine in a note


class AnnotationError(FieldError):
    """Invalid annotation input; `field` names the bad field."""


@dataclass(frozen=True, slots=True)
class AnnotationSpec:
    day: date
    time: str | None
    text: str


def annotation_spec(day: Any, time: Any, text: Any) -> AnnotationSpec:
    """Validate a note: `day` "YYYY-MM-DD", `time` "HH:MM" or empty, `text` 1-500 chars."""
    try:
        when = date.fromisoformat(day) if isinstance(day, str) and len(day) == 10 else None
    except ValueError:
        when = None
    if when is None or not FIRST_DAY <= when <= LAST_DAY:
        raise AnnotationError(
            "date", gettext_noop("must be a day written YYYY-MM-DD, e.g. 2026-03-14")
        )
    if time in (None, ""):
        clock = None
    elif isinstance(time, str) and _TIME.match(time):
        clock = time
    else:
        raise AnnotationError(
            "time", gettext_noop("must be empty or a time of day written HH:MM, e.g. 09:30")
        )
    if not isinstance(text, str) or not text.strip():
        raise AnnotationError(
            "text", gettext_noop("a note needs some text, e.g. Launched on Product Hunt")
        )
    note = text.strip()
    if len(note) > MAX_TEXT or _CONTROL.search(note):
        raise AnnotationError(
            "text",
            gettext_noop("must be at most {max_text} printable characters"),
            max_text=str(MAX_TEXT),
        )
    return AnnotationSpec(when, clock, note)


def list_annotations(session: Session, site: Site) -> list[Annotation]:
    """The site's notes in time order."""
    return list(
        session.scalars(
            select(Annotation)
            .where(Annotation.site_id == site.id)
            .order_by(Annotation.day, Annotation.time, Annotation.id)
        )
    )


def create_annotation(
    session: Session, site: Site, author: User, spec: AnnotationSpec
) -> Annotation:
    count = session.scalar(select(func.count()).where(Annotation.site_id == site.id)) or 0
    if count >= MAX_PER_SITE:
        raise AnnotationError(
            "annotation",
            gettext_noop("a site has at most {max_per_site} notes"),
            max_per_site=str(MAX_PER_SITE),
        )
    note = Annotation(
        site_id=site.id, author_id=author.id, day=spec.day, time=spec.time, text=spec.text
    )
    session.add(note)
    session.flush()
    return note


def delete_annotation(session: Session, site: Site, annotation_id: int) -> bool:
    """Delete one note; False when the site has no such note."""
    note = session.get(Annotation, annotation_id)
    if note is None or note.site_id != site.id:
        return False
    session.delete(note)
    session.flush()
    return True


def annotations_of_account(session: Session, user_id: int) -> list[Annotation]:
    """Every note the account wrote (its data export)."""
    return list(
        session.scalars(
            select(Annotation).where(Annotation.author_id == user_id).order_by(Annotation.id)
        )
    )
