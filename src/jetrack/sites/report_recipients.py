"""Who gets a site's reports and alerts: members' opt-ins, outside addresses with double
opt-in, and the signed links that confirm or unsubscribe one of them."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from jetrack.accounts.instance_keys import instance_key
from jetrack.accounts.permissions import can
from jetrack.i18n.catalogs import gettext_noop
from jetrack.store.models import ReportRecipient, Site, SpikeAlert, User, utcnow

# What a recipient row gets: the weekly report, the monthly one, or the traffic alerts.
KINDS = ("week", "month", "alerts")
KIND_NAMES = {
    "week": gettext_noop("weekly report"),
    "month": gettext_noop("monthly report"),
    "alerts": gettext_noop("traffic alerts"),
}
# A kind as the object of a sentence ("Send {kind} of ..."): the article is part of the
# message, since a language's article and case depend on the noun.
KIND_OBJECTS = {
    "week": gettext_noop("the weekly report"),
    "month": gettext_noop("the monthly report"),
    "alerts": gettext_noop("the traffic alerts"),
}
PURPOSES = ("confirm", "unsubscribe")
# Outside addresses one site may have (all kinds together): enough for a team's clients,
# too few for a mailing list.
MAX_OUTSIDE = 50


class RecipientError(ValueError):
    """A recipient, webhook or spike setting that cannot be saved: `field` names the bad
    field and `message` the problem, in English and marked for translation, its
    `{placeholders}` filled from `params` (a page shows it translated)."""

    def __init__(self, field: str, message: str, **params: str) -> None:
        super().__init__(f"{field}: {message.format(**params)}")
        self.field, self.message, self.params = field, message, params


class LinkError(ValueError):
    """A confirm or unsubscribe link that does not (or no longer) work."""


@dataclass(frozen=True, slots=True)
class Recipient:
    """A confirmed recipient, as the report and alert jobs need it."""

    id: int
    site_id: int
    email: str
    kind: str
    user_id: int | None  # a member's own opt-in; None for an outside address


def member_kinds(session: Session, site: Site, user: User) -> set[str]:
    """The kinds `user` opted in to for `site`."""
    rows = session.scalars(
        select(ReportRecipient.kind).where(
            ReportRecipient.site_id == site.id, ReportRecipient.user_id == user.id
        )
    )
    return set(rows)


def set_member_kinds(session: Session, site: Site, user: User, kinds: set[str]) -> None:
    """A member's own choice: confirmed at once (they are signed in with that address)."""
    wanted = kinds & set(KINDS)
    have = {
        row.kind: row
        for row in session.scalars(
            select(ReportRecipient).where(
                ReportRecipient.site_id == site.id, ReportRecipient.email == user.email
            )
        )
    }
    for kind, row in have.items():
        if kind not in wanted:
            session.delete(row)
        elif row.user_id is None:  # an address an admin added before: now the member's own
            row.user_id, row.confirmed_at = user.id, row.confirmed_at or utcnow()
    for kind in [k for k in KINDS if k in wanted and k not in have]:
        session.add(
            ReportRecipient(
                site_id=site.id, user_id=user.id, email=user.email, kind=kind, confirmed_at=utcnow()
            )
        )
    session.flush()


def subscriptions_of_account(session: Session, user: User) -> list[ReportRecipient]:
    """An account's own opt-ins, on any site (its data export lists them)."""
    return list(
        session.scalars(
            select(ReportRecipient)
            .where(ReportRecipient.user_id == user.id)
            .order_by(ReportRecipient.site_id, ReportRecipient.kind)
        )
    )


def forget_address(session: Session, user_id: int, email: str) -> None:
    """An erased account's opt-ins, and any outside row at its address, go with it."""
    session.execute(
        delete(ReportRecipient).where(
            (ReportRecipient.user_id == user_id) | (ReportRecipient.email == email)
        )
    )


def outside_recipients(session: Session, site: Site) -> list[ReportRecipient]:
    return list(
        session.scalars(
            select(ReportRecipient)
            .where(ReportRecipient.site_id == site.id, ReportRecipient.user_id.is_(None))
            .order_by(ReportRecipient.email, ReportRecipient.kind)
        )
    )


def add_outside(
    session: Session, site: Site, added_by: User, email: str, kind: str
) -> ReportRecipient:
    """An address an admin added: unconfirmed until its owner follows the mailed link."""
    email = email.strip()
    if kind not in KINDS:
        raise RecipientError("kind", gettext_noop("one of {values}"), values=", ".join(KINDS))
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 320 or any(c.isspace() for c in email):
        raise RecipientError("email", gettext_noop("an address such as name@example.com"))
    taken = session.scalar(
        select(ReportRecipient.id).where(
            ReportRecipient.site_id == site.id,
            ReportRecipient.email == email,
            ReportRecipient.kind == kind,
        )
    )
    if taken is not None:
        already = gettext_noop("{email} already gets {kind}")
        raise RecipientError("email", already, email=email, kind=KIND_OBJECTS[kind])
    if len(outside_recipients(session, site)) >= MAX_OUTSIDE:
        most = gettext_noop("a site has at most {max} outside recipients")
        raise RecipientError("email", most, max=str(MAX_OUTSIDE))
    row = ReportRecipient(site_id=site.id, email=email, kind=kind, added_by_id=added_by.id)
    session.add(row)
    session.flush()
    return row


def remove_outside(session: Session, site: Site, recipient_id: int) -> None:
    session.execute(
        delete(ReportRecipient).where(
            ReportRecipient.id == recipient_id,
            ReportRecipient.site_id == site.id,
            ReportRecipient.user_id.is_(None),
        )
    )


def confirmed(session: Session, site_id: int, kind: str) -> list[Recipient]:
    rows = session.scalars(
        select(ReportRecipient)
        .where(
            ReportRecipient.site_id == site_id,
            ReportRecipient.kind == kind,
            ReportRecipient.confirmed_at.is_not(None),
        )
        .order_by(ReportRecipient.id)
    )
    found = (recipient(session, row.id) for row in rows)
    return [one for one in found if one is not None]


def recipient(session: Session, recipient_id: int) -> Recipient | None:
    """A confirmed recipient who may still get the site's mails: a member at their current
    address while they may read the site's reports, an outside address as confirmed."""
    row = session.get(ReportRecipient, recipient_id)
    if row is None or row.confirmed_at is None:
        return None
    email = row.email
    if row.user_id is not None:
        user, site = session.get(User, row.user_id), session.get(Site, row.site_id)
        if user is None or user.locked_at is not None or not can(session, user, "view_stats", site):
            return None
        email = user.email
    return Recipient(row.id, row.site_id, email, row.kind, row.user_id)


# --- Signed links ---------------------------------------------------------------------------
# A token is the row's id and an HMAC-SHA256 (the instance's "report-links" key) over the
# purpose, the id, the site and the kind: it stops working when the row is deleted (a new
# row for the same address gets a new id) and cannot be turned into another row's or
# purpose's. It does not expire: RFC 8058 wants an unsubscribe link that works later too.


def _signature(session: Session, purpose: str, row: ReportRecipient | Recipient) -> str:
    key = instance_key(session, "report-links")
    message = f"{purpose}\n{row.id}\n{row.site_id}\n{row.kind}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:40]


def link_token(session: Session, purpose: str, row: ReportRecipient | Recipient) -> str:
    return f"{row.id}.{_signature(session, purpose, row)}"


def _row_for(session: Session, purpose: str, token: str) -> ReportRecipient:
    number, _, signature = token.partition(".")
    row = session.get(ReportRecipient, int(number)) if number.isdigit() else None
    if row is None or not hmac.compare_digest(signature, _signature(session, purpose, row)):
        raise LinkError(
            gettext_noop(
                "This link does not work any more:"
                " the address was removed, or the link is incomplete."
            )
        )
    return row


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """What a confirm or unsubscribe page names: the address, the site and the kind."""

    email: str
    domain: str
    kind: str  # one of KINDS
    confirmed: bool


def link_target(session: Session, purpose: str, token: str) -> LinkTarget:
    row = _row_for(session, purpose, token)
    site = session.get(Site, row.site_id)
    domain = site.domain if site is not None else ""
    return LinkTarget(row.email, domain, row.kind, row.confirmed_at is not None)


def confirm(session: Session, token: str) -> LinkTarget:
    row = _row_for(session, "confirm", token)
    if row.confirmed_at is None:
        row.confirmed_at = utcnow()
    return link_target(session, "confirm", token)


def unsubscribe(session: Session, token: str) -> LinkTarget:
    target = link_target(session, "unsubscribe", token)
    session.delete(_row_for(session, "unsubscribe", token))
    return target


# --- The spike alert's setting ---------------------------------------------------------------

MAX_EVERY_HOURS = 7 * 24


def spike_setting(session: Session, site: Site) -> SpikeAlert | None:
    return session.get(SpikeAlert, site.id)


def set_spike(session: Session, site: Site, threshold: str, every_hours: str) -> None:
    """Turn the spike alert on (a threshold of current visitors) or off (empty)."""
    row = session.get(SpikeAlert, site.id)
    if not threshold.strip():
        if row is not None:
            session.delete(row)
        return
    if not threshold.strip().isdigit() or not 1 <= int(threshold) <= 10_000_000:
        raise RecipientError(
            "spike_threshold", gettext_noop("a whole number of visitors, 1 or more")
        )
    if not every_hours.strip().isdigit() or not 1 <= int(every_hours) <= MAX_EVERY_HOURS:
        hours = gettext_noop("a whole number of hours, 1 to {max}")
        raise RecipientError("spike_every_hours", hours, max=str(MAX_EVERY_HOURS))
    if row is None:
        row = SpikeAlert(site_id=site.id, threshold=0, every_hours=6)
        session.add(row)
    row.threshold, row.every_hours = int(threshold), int(every_hours)
    session.flush()
