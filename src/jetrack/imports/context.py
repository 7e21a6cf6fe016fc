"""What an importer is and gets: the `Importer` protocol, `ImportContext`, `ImportResult`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from jetrack.imports.messages import english
from jetrack.store.models import Site, SiteImport
from jetrack.store.stores import Stores


class ImportResult(NamedTuple):
    """What a finished import brought: its days (None when it had no rows) and rows."""

    first_day: date | None
    last_day: date | None
    rows: int


class ImportRefused(Exception):
    """The import's input is wrong (not the format, a missing file): the import fails
    with this message, shown to the user, and is not retried. `message` is one of
    jetrack.imports.messages' templates, `params` its placeholders' values; str() is the
    English text the import's record keeps (translated for the web by
    `messages.translated`)."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(english(message, params))
        self.message, self.params = message, params


# progress(done, total, checkpoint): record how far the import got; the import resumes
# from `checkpoint` after a restart. Call it only when everything before the checkpoint
# is stored. It may raise job_queue.Stopping (the process is stopping): let it through.
Progress = Callable[[int, int, str], None]


@dataclass
class ImportContext:
    """One run of one import: the stores, the site, the import's record, its input (a file
    under the data dir's imports folder or the CLI's file, or `params`), the checkpoint
    to resume from ('' at the start) and the progress callback."""

    stores: Stores
    site: Site
    record: SiteImport
    source_path: Path | None
    params: Mapping[str, Any]
    checkpoint: str
    progress: Progress
    # Given by the CLI for this run only, never stored (a database password).
    secrets: Mapping[str, str] = field(default_factory=dict)

    @property
    def import_id(self) -> int:
        return self.record.id

    @property
    def site_id(self) -> int:
        return self.site.id


# Secrets of the imports this process runs (the CLI's --database-url), by import id: held
# in memory only, so an import that needs one resumes only from the CLI that has it.
_SECRETS: dict[int, Mapping[str, str]] = {}


def hold_secrets(import_id: int, secrets: Mapping[str, str]) -> None:
    _SECRETS[import_id] = dict(secrets)


def secrets_for(import_id: int) -> Mapping[str, str]:
    return _SECRETS.get(import_id, {})


class Importer(Protocol):
    """One kind of import (a row of jetrack.imports.kinds.IMPORTERS)."""

    # How the site settings page offers it: True for an upload, else `command` is the
    # CLI command to run (with {domain} for the site's domain).
    uploadable: bool
    command: str

    def run(self, context: ImportContext) -> ImportResult:
        """Import from `context.checkpoint` on; writes must be idempotent past it (a kill
        between a write and its progress call repeats that write). Insert deduplication
        tokens alone do not make them so: after a SIGKILL right after an insert, chDB kept
        the part and lost the token (jetrack.imports.plausible deletes rows past its
        checkpoint instead)."""
        ...

    def delete(self, stores: Stores, site_id: int, import_id: int) -> None:
        """Remove every row this import wrote."""
        ...
