"""The site_imports table: create an import (and the job that runs it), record its
progress and its end, list, read and delete imports. Each function is one unit of work
of the caller's control-store session."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jetrack.config import Settings
from jetrack.store import job_queue
from jetrack.store.models import Job, SiteImport, utcnow

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
JOB_KIND = "import"
# Uploaded import files live here until their import ends (or is deleted).
IMPORTS_FOLDER = "imports"


def imports_dir(settings: Settings) -> Path:
    """The data dir's folder of uploaded import files (created, private)."""
    folder = settings.data_dir / IMPORTS_FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def discard_upload(settings: Settings, path: Path) -> None:
    """Delete an uploaded import file; a file outside the imports folder (the CLI's) stays."""
    folder = (settings.data_dir / IMPORTS_FOLDER).resolve()
    if path.resolve().parent == folder:
        path.unlink(missing_ok=True)


def create_import(
    session: Session,
    site_id: int,
    kind: str,
    source: str,
    params: dict[str, Any] | None = None,
) -> SiteImport:
    """Record a queued import and enqueue the job that runs it. `source` is what the
    import list shows (a file name, a description) and `params` what the importer needs
    after a restart: neither may hold a secret (a password, a key)."""
    record = SiteImport(site_id=site_id, kind=kind, source=source[:500], params=dict(params or {}))
    session.add(record)
    session.flush()
    job_queue.enqueue(
        session, JOB_KIND, {"import_id": record.id}, dedup_key=f"{JOB_KIND}:{record.id}"
    )
    return record


def start_import(session: Session, import_id: int) -> SiteImport | None:
    """Mark an import running (again, after a restart); None when it is gone or over."""
    record = session.get(SiteImport, import_id)
    if record is None or record.status in (DONE, FAILED):
        return None
    record.status = RUNNING
    return record


def record_progress(
    session: Session, import_id: int, done: int, total: int, checkpoint: str
) -> None:
    """Record how far an import got (in its importer's units) and where it resumes."""
    record = session.get(SiteImport, import_id)
    if record is not None:
        record.done, record.total, record.checkpoint = max(0, done), max(0, total), checkpoint


def finish_import(
    session: Session, import_id: int, first_day: date | None, last_day: date | None, rows: int
) -> None:
    record = session.get(SiteImport, import_id)
    if record is not None:
        record.status, record.first_day, record.last_day = DONE, first_day, last_day
        record.rows, record.done = rows, max(record.done, record.total)
        record.finished_at, record.error = utcnow(), ""


def fail_import(session: Session, import_id: int, error: str) -> None:
    record = session.get(SiteImport, import_id)
    if record is not None:
        record.status, record.error, record.finished_at = FAILED, error[:500], utcnow()


def list_imports(session: Session, site_id: int) -> list[SiteImport]:
    """A site's imports, newest first."""
    return list(
        session.scalars(
            select(SiteImport).where(SiteImport.site_id == site_id).order_by(SiteImport.id.desc())
        )
    )


def get_import(session: Session, import_id: int, site_id: int | None = None) -> SiteImport | None:
    """One import; with `site_id`, only when it is that site's."""
    record = session.get(SiteImport, import_id)
    if record is None or (site_id is not None and record.site_id != site_id):
        return None
    return record


def delete_import(session: Session, import_id: int) -> bool:
    """Forget an import's record (its rows are the importer's to delete first)."""
    record = session.get(SiteImport, import_id)
    if record is None:
        return False
    session.delete(record)
    # Free its job's dedup key: SQLite gives the next import the id of a deleted newest
    # one, whose job would otherwise never be queued. (A queued job of this import finds
    # no record and ends.)
    session.execute(
        update(Job).where(Job.dedup_key == f"{JOB_KIND}:{import_id}").values(dedup_key=None)
    )
    return True


# The kinds whose rows go to the imported tables (daily aggregates, read with
# include.imports); the other kinds' rows are events, in every report already.
AGGREGATE_KINDS = ("plausible",)


def imported_days(session: Session, site_id: int) -> list[tuple[date, date]]:
    """The day ranges of a site's finished imports into the imported tables."""
    rows = session.execute(
        select(SiteImport.first_day, SiteImport.last_day).where(
            SiteImport.site_id == site_id,
            SiteImport.kind.in_(AGGREGATE_KINDS),
            SiteImport.status == DONE,
            SiteImport.first_day.is_not(None),
        )
    )
    return [(first, last) for first, last in rows if first is not None and last is not None]
