"""Daily salts for visitor ids: random, kept in the control store, rotated at 00:00 UTC.

Yesterday's salt is kept only so that a visit running across midnight goes on; salts are
deleted 48 hours after they were made. Once a salt is gone, nothing links that day's
visitor ids to anyone."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, select, text

from jetrack.store.control import ControlStore
from jetrack.store.models import Salt

SALT_BYTES = 32
SALT_LIFETIME = timedelta(hours=48)
# PostgreSQL advisory lock held while a salt may be made: several processes (the shared
# mode) at midnight make one salt, not one each (`pg_advisory_xact_lock`, released at commit).
_SALT_LOCK = 0x4A54_5341  # "JTSA"


@dataclass(frozen=True)
class SaltPair:
    day: date
    current: bytes
    previous: bytes | None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def rotate_salts(control: ControlStore, now: datetime | None = None) -> SaltPair:
    """Make today's salt if it is missing, drop expired ones, return today's and yesterday's."""
    now = now or datetime.now(UTC)
    today = now.astimezone(UTC).date()
    start = _midnight(today)
    with control.session() as session:
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SALT_LOCK})
        session.execute(delete(Salt).where(Salt.created_at < now - SALT_LIFETIME))
        todays = session.scalars(
            select(Salt).where(Salt.created_at >= start).order_by(Salt.id)
        ).first()
        if todays is None:
            todays = Salt(value=secrets.token_bytes(SALT_BYTES), created_at=start)
            session.add(todays)
            session.flush()
        previous = session.scalars(
            select(Salt)
            .where(Salt.created_at < start, Salt.created_at >= start - timedelta(days=1))
            .order_by(Salt.id)
        ).first()
        return SaltPair(today, bytes(todays.value), bytes(previous.value) if previous else None)


def salt_ages(control: ControlStore, now: datetime | None = None) -> list[timedelta]:
    """How old each stored salt is (for the privacy audit)."""
    now = now or datetime.now(UTC)
    with control.session() as session:
        return [now - _aware(created) for created in session.scalars(select(Salt.created_at))]


class SaltRing:
    """Today's and yesterday's salts for the ingest pipeline; `rotate` runs off the event loop."""

    def __init__(self, control: ControlStore) -> None:
        self._control = control
        self.pair = rotate_salts(control)

    def __call__(self) -> SaltPair:
        return self.pair

    def rotate(self, now: datetime | None = None) -> SaltPair:
        self.pair = rotate_salts(self._control, now)
        return self.pair


def seconds_to_midnight(now: datetime | None = None) -> float:
    now = now or datetime.now(UTC)
    tomorrow = _midnight(now.astimezone(UTC).date() + timedelta(days=1))
    return (tomorrow - now).total_seconds()
