"""Control-plane tables (SQLAlchemy 2): users, sites, goals, API keys, salts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for timezone-aware columns; they were stored UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    email_verified_at: Mapped[datetime | None] = mapped_column(default=None)
    locked_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the person confirmed being at least 13 at sign-up (revision 0002).
    age_confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    # The pages' language the account chose (jetrack.i18n.catalogs.LANGUAGES); None: the
    # browser's (revision 0011).
    locale: Mapped[str | None] = mapped_column(String(16), default=None)

    sites: Mapped[list[Site]] = relationship(back_populates="owner")


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    cookie_mode: Mapped[bool] = mapped_column(Boolean, default=False)
    retention_days: Mapped[int | None] = mapped_column(Integer, default=None)
    shields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Custom property keys the owner allowed (Plausible's "custom properties"; 0005).
    allowed_props: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The team whose members may see the site (revision 0002); owner_id is who added it.
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), default=None, index=True
    )

    owner: Mapped[User] = relationship(back_populates="sites")
    team: Mapped[Team | None] = relationship()
    goals: Mapped[list[Goal]] = relationship(back_populates="site", cascade="all, delete-orphan")


class Goal(Base):
    """A conversion: a custom event name or a page path (wildcards), optionally narrowed to
    events carrying given custom property values (0005); an event goal may have a currency
    (a revenue goal, 0010)."""

    __tablename__ = "goals"
    __table_args__ = (
        UniqueConstraint("site_id", "display_name", name="uq_goals_site_id_display_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    event_name: Mapped[str | None] = mapped_column(String(120), default=None)
    page_path: Mapped[str | None] = mapped_column(String(2000), default=None)
    display_name: Mapped[str] = mapped_column(String(200))
    custom_props: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # A revenue goal's ISO 4217 currency (custom event goals only, 0010).
    currency: Mapped[str | None] = mapped_column(String(3), default=None)

    site: Mapped[Site] = relationship(back_populates="goals")


class Segment(Base):
    """Saved dashboard filters (0008): `personal` (its owner alone sees and uses it) or
    `site` (everyone who may read the site's reports, shared links included)."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    # Who saved it last; null once that account is gone (a site segment outlives it).
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None, index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(16))
    # Stats API v2 filters, as the dashboard sent them (validated by the query schema).
    filters: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Annotation(Base):
    """A dated note on a site's graph (0008): a day in the site's time zone, optionally a
    time of day, and a short text."""

    __tablename__ = "annotations"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None, index=True
    )
    day: Mapped[date] = mapped_column(Date)
    time: Mapped[str | None] = mapped_column(String(5), default=None)  # "HH:MM", site-local
    text: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Funnel(Base):
    """A named sequence of 2 to 8 of a site's goals, completed in order within a visit
    (0009; jetrack.sites.funnels validates, jetrack.stats.funnel counts)."""

    __tablename__ = "funnels"
    __table_args__ = (UniqueConstraint("site_id", "name", name="uq_funnels_site_id_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    steps: Mapped[list[FunnelStep]] = relationship(
        order_by="FunnelStep.step_order", cascade="all, delete-orphan", passive_deletes=True
    )


class FunnelStep(Base):
    """Step `step_order` (from 1) of a funnel: one goal. Deleting the goal deletes the step."""

    __tablename__ = "funnel_steps"
    __table_args__ = (
        UniqueConstraint("funnel_id", "step_order", name="uq_funnel_steps_funnel_id_step_order"),
        UniqueConstraint("funnel_id", "goal_id", name="uq_funnel_steps_funnel_id_goal_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    funnel_id: Mapped[int] = mapped_column(ForeignKey("funnels.id", ondelete="CASCADE"))
    step_order: Mapped[int] = mapped_column(Integer)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)

    goal: Mapped[Goal] = relationship()


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    # Space-separated scopes (Plausible's names); keys from before 0005 read stats only.
    scopes: Mapped[str] = mapped_column(String(200), default="stats:read:*")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class Salt(Base):
    """A random daily salt for visitor ids; deleted 48 h after it stops being current."""

    __tablename__ = "salts"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


# --- Accounts, teams, sharing (revision 0002) -------------------------------------------


class Team(Base):
    """A group of accounts that shares sites; every site belongs to one team."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    require_2fa: Mapped[bool] = mapped_column(Boolean, default=False)
    # jetrack.billing.plans key; None on a self-hosted instance (revision 0004).
    plan: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Membership(Base):
    """An account's role in a team: owner, admin or viewer."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SiteGuest(Base):
    """An account with access to one site only: guest viewer or guest editor."""

    __tablename__ = "site_guests"
    __table_args__ = (UniqueConstraint("site_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Invitation(Base):
    """An emailed invitation to a team (site_id null) or to one site as a guest."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), default=None
    )
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class UserSession(Base):
    """A signed-in browser; only the SHA-256 of the cookie's token is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    pending_2fa: Mapped[bool] = mapped_column(Boolean, default=False)
    browser: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class EmailToken(Base):
    """A one-use token mailed to an account: verify email, reset password, change email."""

    __tablename__ = "email_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    new_email: Mapped[str | None] = mapped_column(String(320), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class TotpCredential(Base):
    """An account's TOTP secret; enabled once a first code was confirmed."""

    __tablename__ = "totp_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    secret: Mapped[str] = mapped_column(String(64))
    enabled_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_step: Mapped[int] = mapped_column(BigInteger, default=0)


class RecoveryCode(Base):
    """A one-use 2FA recovery code, stored hashed."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class SharedLink(Base):
    """A read-only public dashboard link to one site; optionally password-protected."""

    __tablename__ = "shared_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    # Space-separated origins (https://host[:port]) whose pages may frame the link; empty:
    # no site may (the `frame-ancestors` of /share/{slug}, web/security_headers.py).
    embed_origins: Mapped[str] = mapped_column(String(2000), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class ErasureRequest(Base):
    """An account deletion request; the purge job erases the account after purge_after."""

    __tablename__ = "erasure_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: the row outlives the account it erased, as the record of the erasure.
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    purge_after: Mapped[datetime] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column(default=None)


class InstanceSecret(Base):
    """Random per-instance keys (signing shared-link and form tokens), made on first use."""

    __tablename__ = "instance_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InstanceFact(Base):
    """A fact about the instance that must outlive the rows it was learnt from (revision
    0005): "first_account" is recorded when the first account of an empty instance is made,
    so that erasing accounts later never makes the instance "empty" again."""

    __tablename__ = "instance_facts"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- Privacy: jobs, erasures, exports, tickets, restriction, operator audit (revision 0003) ---

# Imported here so that this section stays one appended block.
from sqlalchemy import event, func, insert, select  # noqa: E402
from sqlalchemy.engine import Connection  # noqa: E402


class Job(Base):
    """Background work (retention, purges, exports): state and checkpoint survive restarts."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    # At most one job per key (e.g. "retention:2026-11-29"), so schedulers may race safely.
    dedup_key: Mapped[str | None] = mapped_column(String(120), unique=True, default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_after: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str] = mapped_column(String(500), default="")


class SiteErasure(Base):
    """A deleted site whose analytics data the purge job still has to erase (then: when)."""

    __tablename__ = "site_erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: the site row is gone; the id also keeps SQLite from reusing it.
    site_id: Mapped[int] = mapped_column(Integer, index=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)


class DataExport(Base):
    """A user's data export: built by a job, downloadable by its owner with a token until
    expires_at, then deleted."""

    __tablename__ = "data_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    directory: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime] = mapped_column()


class Ticket(Base):
    """A message sent through the contact or support form."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(String(5000))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class ProcessingRestriction(Base):
    """An account that restricted processing: its sites' data is stored, not reported."""

    __tablename__ = "processing_restrictions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    restricted_at: Mapped[datetime] = mapped_column(default=utcnow)


class AdminAuditEntry(Base):
    """One operator-console action. Holds ids and action names only, never visitor data."""

    __tablename__ = "admin_audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: the record outlives the accounts it names.
    actor_id: Mapped[int] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


# --- Reports and alerts (revision 0012) ---------------------------------------------------


class ReportRecipient(Base):
    """Who gets a site's mails of one kind: the weekly or monthly report, or the traffic
    alerts. A member of the site (user_id set) is confirmed when they opt in; an outside
    address an admin added is confirmed by its own double opt-in link. Unsubscribing deletes
    the row (jetrack.sites.report_recipients)."""

    __tablename__ = "report_recipients"
    __table_args__ = (
        UniqueConstraint("site_id", "email", "kind", name="uq_report_recipients_site_email_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None, index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(8))  # "week", "month" or "alerts"
    # Who added an outside address; null for a member's own opt-in (or once they are gone).
    added_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)


class TrafficAlert(Base):
    """One silence of a site that a tracking-stopped alert was sent for; recovered_at is set
    when events came back and the "traffic is back" mail was queued (jetrack.jobs.alerts)."""

    __tablename__ = "traffic_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    last_event_at: Mapped[datetime] = mapped_column()  # the silence started after it
    threshold_hours: Mapped[int] = mapped_column(Integer)
    alerted_at: Mapped[datetime] = mapped_column(default=utcnow)
    recovered_at: Mapped[datetime | None] = mapped_column(default=None)


class SpikeAlert(Base):
    """A site's traffic spike alert (revision 0012): mail the alert recipients when the
    current visitors reach `threshold`, at most once every `every_hours`."""

    __tablename__ = "spike_alerts"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    threshold: Mapped[int] = mapped_column(Integer)
    every_hours: Mapped[int] = mapped_column(Integer, default=6)
    last_sent_at: Mapped[datetime | None] = mapped_column(default=None)


class Webhook(Base):
    """A URL that gets a site's reports and alerts as signed JSON (or a Slack-compatible
    body), revision 0012; jetrack.sites.webhooks."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    format: Mapped[str] = mapped_column(String(8), default="json")  # "json" or "slack"
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)  # week, month, alerts
    secret: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256 key of the signatures
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One report or alert sent (or being retried) to a webhook, listed on the reports page."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(32))  # report.week, alert.stopped, ...
    state: Mapped[str] = mapped_column(String(16), default="queued")  # delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)


class SiteImport(Base):
    """One import of a site's history (revision 0013; jetrack.imports.registry): its kind,
    where it came from (a file name or a description, never a secret), its progress in the
    importer's own units, the importer's resume point, and the days and rows it brought."""

    __tablename__ = "site_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # plausible, access-log, goatcounter, umami
    source: Mapped[str] = mapped_column(String(500), default="")
    # The importer's options that survive a restart (a file path, a format); no secrets.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # running, done, failed
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    done: Mapped[int] = mapped_column(BigInteger, default=0)
    checkpoint: Mapped[str] = mapped_column(Text, default="")
    first_day: Mapped[date | None] = mapped_column(Date, default=None)
    last_day: Mapped[date | None] = mapped_column(Date, default=None)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class PlanHistoryEntry(Base):
    """One change of a team's plan (revision 0015; jetrack.billing.changes): from, to, why
    (checkout, subscription_updated, past_due_grace_ended, cancelled, operator) and when."""

    __tablename__ = "plan_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    from_plan: Mapped[str | None] = mapped_column(String(32), default=None)
    to_plan: Mapped[str | None] = mapped_column(String(32), default=None)
    reason: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class RetentionNotice(Base):
    """A team moved to a plan that keeps data for less time (revision 0015): until
    `ends_at` its sites keep `keep_days` (0: the instance's JETRACK_RETENTION_DAYS), so the
    owners are told and can export first; `mailed_at` when they were."""

    __tablename__ = "retention_notices"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    keep_days: Mapped[int] = mapped_column(Integer)
    new_days: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(default=utcnow)
    ends_at: Mapped[datetime] = mapped_column()
    mailed_at: Mapped[datetime | None] = mapped_column(default=None)


class TeamUsage(Base):
    """A team's billable events in one billing period (revision 0015; jetrack.billing.usage),
    counted by the quota job so that no page load counts them, and where the quota's
    warnings, grace and lock stand. `plan` is the plan the warnings and grace were for: a
    plan change starts them over."""

    __tablename__ = "team_usage"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    period_start: Mapped[datetime] = mapped_column(primary_key=True)
    period_end: Mapped[datetime] = mapped_column()
    billable_events: Mapped[int] = mapped_column(BigInteger, default=0)
    counted_at: Mapped[datetime] = mapped_column(default=utcnow)
    plan: Mapped[str | None] = mapped_column(String(32), default=None)
    warned_at: Mapped[datetime | None] = mapped_column(default=None)  # the first threshold
    over_at: Mapped[datetime | None] = mapped_column(default=None)  # 100%: the grace starts


class TeamBilling(Base):
    """A team's customer and its subscription at the payment provider (jetrack.billing),
    as the provider last answered (revision 0014). No card, no address: the provider
    holds those."""

    __tablename__ = "team_billing"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[str] = mapped_column(String(64), unique=True)
    subscription_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    plan: Mapped[str | None] = mapped_column(String(32), default=None)  # what it pays for
    interval: Mapped[str | None] = mapped_column(String(8), default=None)  # month | year
    # The provider's status: trialing, active, past_due, canceled, unpaid, incomplete...
    status: Mapped[str | None] = mapped_column(String(24), default=None)
    current_period_end: Mapped[datetime | None] = mapped_column(default=None)
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    trial_end: Mapped[datetime | None] = mapped_column(default=None)
    # Set when the subscription turns past_due: the paid plan stays until then.
    grace_end: Mapped[datetime | None] = mapped_column(default=None)
    had_trial: Mapped[bool] = mapped_column(Boolean, default=False)  # one trial per team
    # A downgrade waiting for the renewal at current_period_end (revision 0016).
    next_plan: Mapped[str | None] = mapped_column(String(32), default=None)
    synced_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BillingEvent(Base):
    """A webhook event of the payment provider already applied: a duplicate is skipped."""

    __tablename__ = "billing_events"

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column()  # the event's time at the provider
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


@event.listens_for(Site, "after_delete")
def _record_site_erasure(_mapper: Any, connection: Connection, target: Site) -> None:
    """Every deleted site leaves a record, so that the purge job erases its events."""
    connection.execute(insert(SiteErasure).values(site_id=target.id, requested_at=utcnow()))


@event.listens_for(Site, "before_insert")
def _never_reuse_site_ids(_mapper: Any, connection: Connection, target: Site) -> None:
    """SQLite hands out max(id) + 1, which would give a new site the events of a deleted
    one still waiting for its purge; PostgreSQL sequences never reuse ids."""
    if target.id is None and connection.dialect.name == "sqlite":
        highest = connection.execute(
            select(
                func.max(
                    func.coalesce(select(func.max(Site.id)).scalar_subquery(), 0),
                    func.coalesce(select(func.max(SiteErasure.site_id)).scalar_subquery(), 0),
                )
            )
        ).scalar()
        target.id = int(highest or 0) + 1
