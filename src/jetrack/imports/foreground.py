"""An import run in this process (the `jetrack import` commands): the same importer and
record as the `import` job (whose queued job is closed: this process runs it), so the
import list shows it and running the same command again after an interruption resumes it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select

from jetrack.imports import registry
from jetrack.imports.context import ImportContext, ImportRefused, hold_secrets
from jetrack.imports.kinds import IMPORTERS
from jetrack.store import job_queue
from jetrack.store.models import Job, Site, SiteImport
from jetrack.store.stores import Stores


@dataclass
class Outcome:
    import_id: int
    resumed: bool
    rows: int
    first_day: str
    last_day: str
    skipped: dict[str, int]


def _unfinished(stores: Stores, site_id: int, kind: str, params: dict[str, Any]) -> int | None:
    """The site's import of this kind and these params that an interruption left open."""
    with stores.control.session() as session:
        for record in session.scalars(
            select(SiteImport).where(
                SiteImport.site_id == site_id,
                SiteImport.kind == kind,
                SiteImport.status.in_((registry.QUEUED, registry.RUNNING)),
            )
        ):
            if record.params == params:
                return record.id
    return None


def run_in_foreground(
    stores: Stores,
    site: Site,
    kind: str,
    source: str,
    params: dict[str, Any],
    secrets: Mapping[str, str] | None = None,
    report: Callable[[int, int], None] | None = None,
) -> Outcome:
    """Run (or resume) an import of `site` now; raises ImportRefused for a bad input."""
    importer = IMPORTERS[kind]
    import_id = _unfinished(stores, site.id, kind, params)
    resumed = import_id is not None
    with stores.control.session() as session:
        if import_id is None:
            import_id = registry.create_import(session, site.id, kind, source, params).id
        job_id = session.scalar(
            select(Job.id).where(Job.dedup_key == f"{registry.JOB_KIND}:{import_id}")
        )
        record = registry.start_import(session, import_id)
        assert record is not None
        session.expunge(record)
    if job_id is not None:
        # This process runs the import: the job runner must not run it too (a server on
        # the same control store); an interruption resumes with the same command.
        job_queue.finish(stores.control, job_id, {"import_id": import_id, "run_by": "cli"})
    hold_secrets(import_id, secrets or {})

    def progress(done: int, total: int, checkpoint: str) -> None:
        with stores.control.session() as session:
            registry.record_progress(session, import_id, done, total, checkpoint)
        if report is not None:
            report(done, total)

    context = ImportContext(
        stores, site, record, None, params, record.checkpoint, progress, secrets or {}
    )
    try:
        result = importer.run(context)
    except ImportRefused as exc:
        with stores.control.session() as session:
            registry.fail_import(session, import_id, str(exc))
        raise
    with stores.control.session() as session:
        registry.finish_import(session, import_id, result.first_day, result.last_day, result.rows)
        checkpoint = registry.get_import(session, import_id)
        state = orjson.loads(checkpoint.checkpoint) if checkpoint and checkpoint.checkpoint else {}
    skipped = state.get("skipped", {}) if isinstance(state, dict) else {}
    return Outcome(
        import_id,
        resumed,
        result.rows,
        result.first_day.isoformat() if result.first_day else "",
        result.last_day.isoformat() if result.last_day else "",
        {str(k): int(v) for k, v in dict(skipped).items()},
    )
