"""The hard purge: erase accounts whose undo window passed, and the data of deleted sites.

Every step is idempotent and recorded in the job's checkpoint once done, so a purge killed
midway resumes where it stopped and ends complete. Order matters: control rows first (so
ingestion stops accepting the sites' events), then the journal settles, then the event
rows go, then files; the confirmation mail last.
"""

from __future__ import annotations

import shutil
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from jetrack.billing.subscriptions import customers_of_teams
from jetrack.billing.upkeep import erase_or_queue
from jetrack.ingest.service import replay_journal, unstored_segments
from jetrack.privacy.erasure import undo_link_path
from jetrack.privacy.event_tables import delete_site_rows, site_ids_with_data
from jetrack.privacy.mails import compose, send
from jetrack.sites.report_recipients import forget_address
from jetrack.sites.segments import forget_account
from jetrack.store.job_queue import JobContext
from jetrack.store.models import (
    DataExport,
    ErasureRequest,
    Membership,
    Site,
    SiteErasure,
    Team,
    Ticket,
    User,
    as_utc,
    utcnow,
)
from jetrack.store.stores import Stores

# Ingestion forgets a deleted site when its site cache refreshes (10 s) and stores what it
# accepted before within a flush (1 s): wait this long before erasing a site's events.
INGEST_SETTLE = timedelta(seconds=15)
JOURNAL_WAIT_SECONDS = 60.0
CLOSED_TICKET_LIFETIME = timedelta(days=365)


def exports_dir(stores: Stores) -> Path:
    return stores.settings.data_dir / "exports"


# --- Account erasure ---------------------------------------------------------------------


def plan_account(session: Session, user: User) -> dict[str, Any]:
    """What erasing `user` removes: sites and teams they own alone; sites they added to a
    team that another owner keeps are handed to that owner instead."""
    owned_teams = session.scalars(
        select(Team)
        .join(Membership, Membership.team_id == Team.id)
        .where(Membership.user_id == user.id, Membership.role == "owner")
    ).all()
    teams_alone, successors = [], {}
    for team in owned_teams:
        other = session.scalar(
            select(Membership.user_id).where(
                Membership.team_id == team.id,
                Membership.role == "owner",
                Membership.user_id != user.id,
            )
        )
        if other is None:
            teams_alone.append(team.id)
        else:
            successors[team.id] = other
    erase, hand_over = set(), {}
    for site in session.scalars(
        select(Site).where(or_(Site.owner_id == user.id, Site.team_id.in_(teams_alone)))
    ):
        if site.team_id is not None and site.team_id in successors:
            hand_over[str(site.id)] = successors[site.team_id]
        else:
            erase.add(site.id)
    exports = session.scalars(select(DataExport.directory).where(DataExport.user_id == user.id))
    return {
        "user_id": user.id,
        "email": user.email,
        "name": user.name,
        "site_ids": sorted(erase),
        "hand_over": hand_over,
        "team_ids": teams_alone,
        # The provider's customers of the teams that go (billing: cancelled and deleted).
        "billing_customers": customers_of_teams(session, teams_alone),
        "export_dirs": list(exports),
    }


def erase_account_rows(session: Session, plan: dict[str, Any]) -> None:
    """Delete the account and everything in the control store that is only theirs."""
    user_id = plan["user_id"]
    session.execute(
        delete(Ticket).where(or_(Ticket.user_id == user_id, Ticket.email == plan["email"]))
    )
    for site_id, new_owner in plan["hand_over"].items():
        site = session.get(Site, int(site_id))
        if site is not None:
            site.owner_id = int(new_owner)
    for site_id in plan["site_ids"]:
        site = session.get(Site, site_id)
        if site is not None:
            session.delete(site)  # records a SiteErasure (store/models.py)
    session.flush()
    for team_id in plan["team_ids"]:
        team = session.get(Team, team_id)
        if team is not None:
            session.delete(team)
    forget_account(session, user_id)  # personal segments go; site segments lose their owner
    forget_address(session, user_id, plan["email"])  # report and alert opt-ins
    user = session.get(User, user_id)
    if user is not None:
        session.delete(user)  # sessions, keys, tokens, 2FA, memberships, exports cascade


def run_account_erasure(context: JobContext) -> None:
    stores = context.stores
    payload = context.payload

    def plan() -> None:
        with stores.control.session() as session:
            request = session.get(ErasureRequest, payload["request_id"])
            user = session.get(User, request.user_id) if request is not None else None
            if request is None or request.completed_at is not None or user is None:
                payload["plan"] = None  # undone, already purged, or the account is gone
                return
            payload["plan"] = plan_account(session, user)

    def billing() -> None:
        # Before the control rows, which hold the customer ids. What the provider could not
        # take now is a job of its own, retried; the mail says so.
        customers = (payload["plan"] or {}).get("billing_customers", [])
        if customers and stores.settings.billing:
            payload["billing_queued"] = len(erase_or_queue(context, customers))

    def control_rows() -> None:
        if payload["plan"] is not None:
            with stores.control.session() as session:
                erase_account_rows(session, payload["plan"])
        payload["control_done_at"] = time.time()

    def journal() -> None:
        settle_ingest(context, payload["control_done_at"])

    def events() -> None:
        for site_id in (payload["plan"] or {}).get("site_ids", []):
            delete_site_rows(stores.events, site_id)
        _complete_site_erasures(stores, (payload["plan"] or {}).get("site_ids", []))

    def files() -> None:
        for directory in (payload["plan"] or {}).get("export_dirs", []):
            _remove_export_dir(stores, directory)

    def mail() -> None:
        plan = payload["plan"]
        if plan is not None:
            settings = stores.settings
            message = compose(
                settings,
                "erased",
                name=plan["name"] or plan["email"],
                privacy_url=settings.base_url.rstrip("/") + "/privacy",
                billing_queued=bool(payload.get("billing_queued")),
            )
            send(context.stores.settings, plan["email"], message)

    def close() -> None:
        with stores.control.session() as session:
            request = session.get(ErasureRequest, payload["request_id"])
            if request is not None and request.completed_at is None and payload["plan"]:
                request.completed_at = utcnow()
        if payload["plan"] is not None:  # the checkpoint keeps no personal data afterwards
            payload["plan"] = {"user_id": payload["plan"]["user_id"], "erased": True}

    context.run_steps(
        [
            ("plan", plan),
            ("billing", billing),
            ("control", control_rows),
            ("journal", journal),
            ("events", events),
            ("files", files),
            ("mail", mail),
            ("close", close),
        ]
    )


def send_erasure_notice(context: JobContext) -> None:
    """Mail the account that asked to be deleted: when it happens and how to undo it."""
    stores = context.stores
    with stores.control.session() as session:
        request = session.get(ErasureRequest, context.payload["request_id"])
        user = session.get(User, request.user_id) if request is not None else None
        if request is None or request.completed_at is not None or user is None:
            return
        url = stores.settings.base_url.rstrip("/") + undo_link_path(session, request)
        to, name = user.email, user.name or user.email
        purge_date = as_utc(request.purge_after).strftime("%d %B %Y")
    message = compose(stores.settings, "erasure_notice", name=name, url=url, purge_date=purge_date)
    send(stores.settings, to, message)


# --- Deleted sites, orphans, expired exports, old tickets -----------------------------------


def run_purge(context: JobContext) -> None:
    """The daily purge (also run soon after a site is deleted)."""
    stores = context.stores

    def deleted_sites() -> None:
        with stores.control.session() as session:
            pending = session.scalars(
                select(SiteErasure).where(SiteErasure.completed_at.is_(None))
            ).all()
            requested = {row.site_id: as_utc(row.requested_at) for row in pending}
        if not requested:
            return
        settle_ingest(context, max(requested.values()).timestamp())
        for site_id in requested:
            delete_site_rows(stores.events, site_id)
        _complete_site_erasures(stores, list(requested))

    def orphans() -> None:
        # Only ids of sites known to be deleted (late events after their purge): an event
        # store next to the wrong or an empty control store must never lose its data.
        with stores.control.session() as session:
            known = set(session.scalars(select(Site.id)))
            erased = set(session.scalars(select(SiteErasure.site_id)))
        for site_id in sorted((site_ids_with_data(stores.events) - known) & erased):
            delete_site_rows(stores.events, site_id)

    def exports() -> None:
        remove_expired_exports(stores)

    def tickets() -> None:
        with stores.control.session() as session:
            session.execute(
                delete(Ticket).where(Ticket.closed_at < utcnow() - CLOSED_TICKET_LIFETIME)
            )

    context.run_steps(
        [
            ("deleted_sites", deleted_sites),
            ("orphans", orphans),
            ("exports", exports),
            ("tickets", tickets),
        ]
    )


def remove_expired_exports(stores: Stores) -> int:
    now = utcnow()
    with stores.control.session() as session:
        expired = session.scalars(select(DataExport)).all()
        gone = [row for row in expired if as_utc(row.expires_at) <= now]
        for row in gone:
            _remove_export_dir(stores, row.directory)
            session.delete(row)
        known = {row.directory for row in expired if row not in gone}
    root = exports_dir(stores)
    if root.is_dir():  # directories no row names (a crash between writing and recording)
        for path in root.iterdir():
            if path.name not in known and time.time() - path.stat().st_mtime > 86400:
                shutil.rmtree(path, ignore_errors=True)
    return len(gone)


def _remove_export_dir(stores: Stores, directory: str) -> None:
    if directory and "/" not in directory and directory not in (".", ".."):
        shutil.rmtree(exports_dir(stores) / directory, ignore_errors=True)


def _complete_site_erasures(stores: Stores, site_ids: list[int]) -> None:
    if not site_ids:
        return
    with stores.control.session() as session:
        for row in session.scalars(
            select(SiteErasure).where(
                SiteErasure.site_id.in_(site_ids), SiteErasure.completed_at.is_(None)
            )
        ):
            row.completed_at = utcnow()


def settle_ingest(context: JobContext, since: float) -> None:
    """Make sure no event of a just-deleted site is still on its way to the event store.

    In the server: wait until ingestion has forgotten the site and the journal segments
    written before that are stored (the write buffer deletes them). From the CLI the server
    is not running, so store any segments a crash left behind now, before erasing."""
    stores = context.stores
    if not context.in_server:
        replay_journal(stores)  # this thread has no event loop
        return
    wait = since + INGEST_SETTLE.total_seconds() - time.time()
    if wait > 0:
        time.sleep(wait)
    older = unstored_segments(stores)
    deadline = time.monotonic() + JOURNAL_WAIT_SECONDS
    while older & unstored_segments(stores):
        if time.monotonic() > deadline:
            raise RuntimeError("the write buffer did not store its journal in time; will retry")
        time.sleep(0.5)
