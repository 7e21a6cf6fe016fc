"""Data export (access and portability): everything a user's account holds, as one ZIP.

account.json, teams.json, sites.json, with billing on billing.json (the plan history of
the teams the account owns and their invoices, read from the payment provider), and per
owned site `sites/<domain>/events.csv`,
`events.parquet` and `aggregates.json` (daily totals). Built by a background job with
progress, downloadable by its owner at /exports/<token> for 7 days, then deleted. No
column of the export can hold an IP address: the event store has none.
"""

from __future__ import annotations

import json
import secrets
import shutil
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from jetrack.accounts.permissions import can
from jetrack.accounts.tokens import digest, new_token
from jetrack.billing.records import (
    TeamCustomer,
    invoices_document,
    owned_customers,
    plan_history_document,
)
from jetrack.config import Settings
from jetrack.privacy.csv_cells import csv_cell
from jetrack.privacy.mails import compose, send
from jetrack.privacy.purge import exports_dir
from jetrack.privacy.restriction import is_restricted
from jetrack.sites import report_recipients
from jetrack.sites.annotations import annotations_of_account, list_annotations
from jetrack.sites.segments import segments_of_account, visible_segments
from jetrack.sites.webhooks import webhooks_of
from jetrack.store import job_queue
from jetrack.store.events import EventStore, Limits
from jetrack.store.job_queue import JobContext
from jetrack.store.models import (
    Annotation,
    ApiKey,
    DataExport,
    ErasureRequest,
    Membership,
    Segment,
    SharedLink,
    Site,
    Team,
    Ticket,
    TotpCredential,
    User,
    UserSession,
    as_utc,
    utcnow,
)
from jetrack.store.schema import EVENT_COLUMNS
from jetrack.store.stores import Stores

EXPORT_LIFETIME = timedelta(days=7)
ZIP_NAME = "jetrack-export.zip"
CHUNK_LIMITS = Limits(timeout_seconds=600, max_rows=5_000_000)
# How each events column is written: text for the map and the decimal, ISO time.
_SPECIAL = {
    "timestamp": "formatDateTime(timestamp, '%Y-%m-%dT%H:%i:%SZ')",
    "props": "toJSONString(props)",
    "revenue_amount": "toString(revenue_amount)",
}
EVENT_SELECT = ", ".join(f"{_SPECIAL.get(name, name)} AS {name}" for name in EVENT_COLUMNS)


def request_export(session: Session, user: User) -> tuple[DataExport, str | None]:
    """Start an export; with one already in progress, that one (and no new token)."""
    running = session.scalar(
        select(DataExport).where(
            DataExport.user_id == user.id, DataExport.state.in_(("queued", "running"))
        )
    )
    if running is not None:
        return running, None
    token = new_token()
    export = DataExport(
        user_id=user.id,
        token_hash=digest(token),
        directory=secrets.token_hex(16),
        expires_at=utcnow() + EXPORT_LIFETIME,
    )
    session.add(export)
    session.flush()
    job_queue.enqueue(session, "export", {"export_id": export.id, "token": token})
    return export, token


def exports_of(session: Session, user: User) -> list[DataExport]:
    return list(
        session.scalars(
            select(DataExport).where(DataExport.user_id == user.id).order_by(DataExport.id.desc())
        )
    )


def download_path(stores: Stores, session: Session, user: User, token: str) -> Path | None:
    """The ZIP for a download token, only for its owner and only until it expires."""
    export = session.scalar(select(DataExport).where(DataExport.token_hash == digest(token)))
    if export is None or export.user_id != user.id or export.state != "done":
        return None
    if as_utc(export.expires_at) <= utcnow():
        return None
    path = exports_dir(stores) / export.directory / ZIP_NAME
    return path if path.is_file() else None


# --- What goes into the export ------------------------------------------------------------


def _when(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment is not None else None


def owned_sites(session: Session, user: User) -> list[Site]:
    """The sites whose data is the user's to take: those they may delete (owners)."""
    candidates = session.scalars(select(Site).order_by(Site.domain))
    return [site for site in candidates if can(session, user, "delete_site", site)]


def account_document(session: Session, user: User) -> dict[str, Any]:
    totp = session.scalar(select(TotpCredential).where(TotpCredential.user_id == user.id))
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "is_instance_admin": user.is_admin,
        "created_at": _when(user.created_at),
        "email_verified_at": _when(user.email_verified_at),
        "age_confirmed_at": _when(user.age_confirmed_at),
        "two_factor_enabled": totp is not None and totp.enabled_at is not None,
        "processing_restricted": is_restricted(session, user.id),
        "api_keys": [
            {
                "name": key.name,
                "prefix": key.prefix,
                "created_at": _when(key.created_at),
                "last_used_at": _when(key.last_used_at),
                "revoked_at": _when(key.revoked_at),
            }
            for key in session.scalars(select(ApiKey).where(ApiKey.user_id == user.id))
        ],
        "sessions": [
            {
                "browser": row.browser,
                "created_at": _when(row.created_at),
                "last_seen_at": _when(row.last_seen_at),
            }
            for row in session.scalars(select(UserSession).where(UserSession.user_id == user.id))
        ],
        "messages": [
            {
                "kind": t.kind,
                "subject": t.subject,
                "message": t.message,
                "created_at": _when(t.created_at),
                "closed_at": _when(t.closed_at),
            }
            for t in session.scalars(select(Ticket).where(Ticket.user_id == user.id))
        ],
        "erasure_requests": [
            {"requested_at": _when(r.requested_at), "purge_after": _when(r.purge_after)}
            for r in session.scalars(
                select(ErasureRequest).where(ErasureRequest.user_id == user.id)
            )
        ],
        # Saved last by this account (personal ones are theirs alone), on any site.
        "segments": [
            _segment(s) | {"site_id": s.site_id} for s in segments_of_account(session, user.id)
        ],
        "annotations": [
            _annotation(n) | {"site_id": n.site_id}
            for n in annotations_of_account(session, user.id)
        ],
        # The reports and alerts this account opted in to, at its own address.
        "report_subscriptions": [
            {"site_id": r.site_id, "kind": r.kind, "created_at": _when(r.created_at)}
            for r in report_recipients.subscriptions_of_account(session, user)
        ],
    }


def _segment(segment: Segment) -> dict[str, Any]:
    return {
        "name": segment.name,
        "type": segment.type,
        "filters": segment.filters,
        "created_at": _when(segment.created_at),
        "updated_at": _when(segment.updated_at),
    }


def _annotation(note: Annotation) -> dict[str, Any]:
    return {"date": note.day.isoformat(), "time": note.time, "text": note.text}


def teams_document(session: Session, user: User) -> list[dict[str, Any]]:
    # Other members' addresses are their data, not this user's: names of teams and roles only.
    rows = session.execute(
        select(Team, Membership)
        .join(Membership, Membership.team_id == Team.id)
        .where(Membership.user_id == user.id)
    )
    return [
        {
            "id": team.id,
            "name": team.name,
            "your_role": membership.role,
            "require_2fa": team.require_2fa,
            "joined_at": _when(membership.created_at),
        }
        for team, membership in rows
    ]


def billing_document(
    settings: Settings, customers: list[TeamCustomer], history: list[dict[str, Any]]
) -> dict[str, Any]:
    """Per team the account owns: its plan history, and its invoices read from the payment
    provider. Raises BillingUnavailable when the provider cannot be reached (the job
    tries again)."""
    return {
        "plan_history": history,
        "invoices": [invoices_document(settings, customer) for customer in customers],
    }


def site_document(session: Session, site: Site) -> dict[str, Any]:
    links = session.scalars(select(SharedLink).where(SharedLink.site_id == site.id))
    return {
        "id": site.id,
        "domain": site.domain,
        "name": site.name,
        "timezone": site.timezone,
        "team_id": site.team_id,
        "paused": site.paused,
        "cookie_mode": site.cookie_mode,
        "retention_days": site.retention_days,
        "shields": site.shields,
        "allowed_props": list(site.allowed_props or []),
        "created_at": _when(site.created_at),
        "goals": [
            {
                "display_name": g.display_name,
                "event_name": g.event_name,
                "page_path": g.page_path,
                "custom_props": dict(g.custom_props or {}),
            }
            for g in site.goals
        ],
        "shared_links": [
            {
                "name": link.name,
                "slug": link.slug,
                "password_protected": link.password_hash is not None,
                "created_at": _when(link.created_at),
                "revoked_at": _when(link.revoked_at),
            }
            for link in links
        ],
        # The site's own: its site segments and notes (members' personal segments are theirs).
        "segments": [_segment(s) for s in visible_segments(session, site, None)],
        "annotations": [_annotation(n) for n in list_annotations(session, site)],
        # Outside addresses the site's admins added (members' own opt-ins are in theirs).
        "report_recipients": [
            {
                "email": r.email,
                "kind": r.kind,
                "created_at": _when(r.created_at),
                "confirmed_at": _when(r.confirmed_at),
            }
            for r in report_recipients.outside_recipients(session, site)
        ],
        # Its webhooks (never their signing secrets).
        "webhooks": [
            {"url": h.url, "format": h.format, "kinds": h.kinds, "created_at": _when(h.created_at)}
            for h in webhooks_of(session, site)
        ],
    }


def write_site_events(events: EventStore, site: dict[str, Any], directory: Path) -> int:
    """events.csv and events.parquet, one month (partition) at a time; the row count."""
    directory.mkdir(parents=True, exist_ok=True)
    months = events.query(
        "SELECT DISTINCT _partition_id AS p FROM events WHERE site_id = {site:UInt32} ORDER BY p",
        {"site": site["id"]},
    )
    csv_writer: pa_csv.CSVWriter | None = None
    parquet_writer: pq.ParquetWriter | None = None
    total = 0
    try:
        for (month,) in months.rows:
            result = events.query(
                f"SELECT {EVENT_SELECT} FROM events WHERE site_id = {{site:UInt32}}"
                " AND _partition_id = {month:String} ORDER BY timestamp",
                {"site": site["id"], "month": str(month)},
                limits=CHUNK_LIMITS,
            )
            columns = list(zip(*result.rows, strict=True)) if result.rows else []
            table = pa.table(
                {
                    name: pa.array(values)
                    for name, values in zip(result.columns, columns, strict=True)
                }
            )
            # The CSV is for spreadsheets: its text cells may not run as formulas. The
            # Parquet file keeps every value exactly as collected.
            as_csv = pa.table(
                {
                    name: pa.array([csv_cell(v) for v in values], table.schema.field(name).type)
                    for name, values in zip(result.columns, columns, strict=True)
                }
            )
            if csv_writer is None:
                csv_writer = pa_csv.CSVWriter(directory / "events.csv", table.schema)
                parquet_writer = pq.ParquetWriter(directory / "events.parquet", table.schema)
            csv_writer.write_table(as_csv)
            assert parquet_writer is not None
            parquet_writer.write_table(table)
            total += table.num_rows
    finally:
        if csv_writer is not None:
            csv_writer.close()
        if parquet_writer is not None:
            parquet_writer.close()
    if total == 0:  # a site without events still gets both files, with the header only
        empty = pa.table({name: pa.array([], pa.string()) for name in EVENT_COLUMNS})
        pa_csv.write_csv(empty, directory / "events.csv")
        pq.write_table(empty, directory / "events.parquet")
    aggregates = events.query(
        "SELECT toString(toDate(timestamp, {zone:String})) AS day, uniq(visitor_id) AS visitors,"
        " uniq(session_id) AS visits, countIf(name = 'pageview') AS pageviews, count() AS events"
        " FROM events WHERE site_id = {site:UInt32} GROUP BY day ORDER BY day",
        {"site": site["id"], "zone": site["timezone"]},
        limits=CHUNK_LIMITS,
    )
    daily = [dict(zip(aggregates.columns, row, strict=True)) for row in aggregates.rows]
    (directory / "aggregates.json").write_text(
        json.dumps(
            {"domain": site["domain"], "timezone": site["timezone"], "daily": daily}, indent=1
        )
    )
    return total


# --- The job ------------------------------------------------------------------------------------


def run_export(context: JobContext) -> None:
    stores = context.stores
    payload = context.payload
    with stores.control.session() as session:
        export = session.get(DataExport, payload["export_id"])
        if export is None:  # the account was erased meanwhile
            return
        export.state = "running"
        directory = exports_dir(stores) / export.directory
        user_id = export.user_id
    work = directory / "work"

    def documents() -> None:
        work.mkdir(parents=True, exist_ok=True)
        with stores.control.session() as session:
            user = session.get(User, user_id)
            assert user is not None
            sites = [site_document(session, site) for site in owned_sites(session, user)]
            files = {
                "account.json": account_document(session, user),
                "teams.json": teams_document(session, user),
                "sites.json": sites,
            }
            if stores.settings.billing:
                customers = owned_customers(session, user.id)
                history = plan_history_document(session, user.id)
            payload["name"], payload["email"] = user.name or user.email, user.email
        if stores.settings.billing:
            files["billing.json"] = billing_document(stores.settings, customers, history)
        for name, document in files.items():
            (work / name).write_text(json.dumps(document, indent=1, ensure_ascii=False))
        payload["sites"] = [
            {"id": s["id"], "domain": s["domain"], "timezone": s["timezone"]} for s in sites
        ]

    def site_events() -> None:
        sites = payload["sites"]
        for index, site in enumerate(sites):
            if site["domain"] in payload.setdefault("sites_done", []):
                continue
            write_site_events(stores.events, site, work / "sites" / site["domain"])
            payload["sites_done"].append(site["domain"])
            _progress(stores, payload["export_id"], 10 + int(80 * (index + 1) / max(1, len(sites))))
            context.save()

    def pack() -> None:
        target = directory / ZIP_NAME
        partial = directory / (ZIP_NAME + ".part")
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(work.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(work).as_posix())
        partial.replace(target)
        shutil.rmtree(work, ignore_errors=True)
        with stores.control.session() as session:
            row = session.get(DataExport, payload["export_id"])
            if row is not None:
                row.state, row.progress, row.finished_at = "done", 100, utcnow()
                row.size_bytes = target.stat().st_size

    def mail() -> None:
        settings = stores.settings
        with stores.control.session() as session:
            row = session.get(DataExport, payload["export_id"])
            expires = as_utc(row.expires_at).strftime("%d %B %Y") if row else ""
        url = settings.base_url.rstrip("/") + f"/exports/{payload['token']}"
        message = compose(settings, "export_ready", name=payload["name"], url=url, expires=expires)
        send(settings, payload["email"], message)
        for secret in ("token", "email", "name"):  # the checkpoint keeps no token or address
            payload.pop(secret, None)

    context.run_steps(
        [("documents", documents), ("events", site_events), ("pack", pack), ("mail", mail)]
    )


def _progress(stores: Stores, export_id: int, progress: int) -> None:
    with stores.control.session() as session:
        row = session.get(DataExport, export_id)
        if row is not None:
            row.progress = progress
