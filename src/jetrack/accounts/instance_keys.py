"""Random per-instance signing keys, kept in the control store and made on first use."""

from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jetrack.store.models import InstanceSecret


def instance_key(session: Session, name: str) -> bytes:
    row = session.get(InstanceSecret, name)
    if row is not None:
        return row.value
    try:
        with session.begin_nested():
            row = InstanceSecret(name=name, value=secrets.token_bytes(32))
            session.add(row)
    except IntegrityError:  # another process made it first
        row = session.get(InstanceSecret, name)
        assert row is not None
    return row.value
