"""The `import` job: runs one import (jetrack.imports) by id, resumable from its checkpoint."""

from __future__ import annotations

import logging
from pathlib import Path

from jetrack.imports import registry
from jetrack.imports.context import ImportContext, ImportRefused, secrets_for
from jetrack.imports.kinds import IMPORTERS
from jetrack.imports.messages import NO_IMPORTER, english
from jetrack.store.job_queue import JobContext, Stopping, pause_point
from jetrack.store.models import Site

log = logging.getLogger("jetrack.imports")
# The step name a test pauses a killed import at (job_queue.PAUSE_AFTER_STEP_ENV).
PROGRESS_STEP = "import-progress"


def run_import(context: JobContext) -> None:
    """Run the import of the job's payload (`import_id`) from its last checkpoint; a bad
    input fails the import (shown in the list), a stop leaves it to resume."""
    import_id = int(context.payload["import_id"])
    control = context.stores.control
    with control.session() as session:
        record = registry.start_import(session, import_id)
        site = session.get(Site, record.site_id) if record is not None else None
    if record is None or site is None:
        # Deleted, or over: the job keeps no checkpoint (a replayed import's holds its
        # day salts while it runs).
        context.payload.pop("checkpoint", None)
        return
    importer = IMPORTERS.get(record.kind)
    if importer is None:
        with control.session() as session:
            registry.fail_import(session, import_id, english(NO_IMPORTER, {"kind": record.kind}))
        return

    def progress(done: int, total: int, checkpoint: str) -> None:
        with control.session() as session:
            registry.record_progress(session, import_id, done, total, checkpoint)
        context.payload["checkpoint"] = checkpoint
        context.save(progress=int(done * 100 / total) if total > 0 else None)
        pause_point(PROGRESS_STEP)
        context.stop_point()

    path = record.params.get("path")
    import_context = ImportContext(
        stores=context.stores,
        site=site,
        record=record,
        source_path=Path(path) if path else None,
        params=record.params,
        checkpoint=record.checkpoint,
        progress=progress,
        secrets=secrets_for(import_id),
    )
    try:
        result = importer.run(import_context)
    except Stopping:
        raise
    except ImportRefused as exc:
        _end(context, import_id, error=str(exc) or type(exc).__name__)
        return
    except Exception as exc:
        log.error("import %d failed: %s", import_id, type(exc).__name__)
        _end(context, import_id, error=f"{type(exc).__name__}: {exc}")
        return
    with control.session() as session:
        registry.finish_import(session, import_id, result.first_day, result.last_day, result.rows)
    _end(context, import_id, error=None)


def _end(context: JobContext, import_id: int, error: str | None) -> None:
    """Record a failure (if any) and remove the uploaded file: an import that is over
    never reads it again."""
    settings = context.stores.settings
    with context.stores.control.session() as session:
        record = registry.get_import(session, import_id)
        if record is None:
            return
        if error is not None:
            registry.fail_import(session, import_id, error)
        path = record.params.get("path")
    if path:
        registry.discard_upload(settings, Path(path))
