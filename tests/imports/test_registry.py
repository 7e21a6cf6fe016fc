"""The imports registry and the `import` job with real stores: an import's life (queued,
running, done), an importer stopped midway resumes from its checkpoint without writing a
unit twice, a bad input fails the import with its message, delete removes rows and record."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date

import pytest

from jetrack.imports import registry
from jetrack.imports.context import ImportContext, ImportRefused, ImportResult
from jetrack.imports.kinds import IMPORTERS, remove_import
from jetrack.jobs import runner
from jetrack.store.stores import Stores
from tests.privacy.helpers import make_account

UNITS = 5


@dataclass
class CountingImporter:
    """Writes units 1..UNITS (a set, so a repeated write would not show; `writes` counts
    every write), stopping the process after unit `stop_after`."""

    stopping: threading.Event
    stop_after: int = 0
    written: dict[int, set[int]] = field(default_factory=dict)
    writes: int = 0
    uploadable: bool = False
    command: str = "jetrack import counting --site {domain}"

    def run(self, context: ImportContext) -> ImportResult:
        if context.params.get("refuse"):
            raise ImportRefused("not a counting file")
        start = int(context.checkpoint or 0)
        for unit in range(start + 1, UNITS + 1):
            self.written.setdefault(context.import_id, set()).add(unit)
            self.writes += 1
            if unit == self.stop_after:
                self.stopping.set()
            context.progress(unit, UNITS, str(unit))
        return ImportResult(date(2024, 1, 1), date(2024, 1, UNITS), UNITS)

    def delete(self, stores: Stores, site_id: int, import_id: int) -> None:
        self.written.pop(import_id, None)


def test_an_import_stopped_midway_resumes_and_counts_each_unit_once(
    stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    stopping = threading.Event()
    importer = CountingImporter(stopping, stop_after=2)
    monkeypatch.setitem(IMPORTERS, "counting", importer)
    _, (site_id,) = make_account(stores, "owner@example.com", "example.com")
    with stores.control.session() as session:
        import_id = registry.create_import(session, site_id, "counting", "units.txt").id
        refused_id = registry.create_import(
            session, site_id, "counting", "bad.txt", {"refuse": True}
        ).id

    # The process stops after unit 2: the job is given back, the import keeps its place.
    assert not runner.run_one(stores, in_server=True, kinds=("import",), stopping=stopping)
    with stores.control.session() as session:
        record = registry.get_import(session, import_id)
        assert record is not None
        assert (record.status, record.done, record.total, record.checkpoint) == (
            "running",
            2,
            UNITS,
            "2",
        )
    stopping.clear()
    assert runner.run_pending(stores, kinds=("import",)) == 2
    assert importer.written[import_id] == set(range(1, UNITS + 1))
    assert importer.writes == UNITS  # units 1 and 2 were not written again
    with stores.control.session() as session:
        done, refused = registry.list_imports(session, site_id)[::-1]
        assert (done.status, done.rows, done.first_day, done.last_day, done.done) == (
            "done",
            UNITS,
            date(2024, 1, 1),
            date(2024, 1, UNITS),
            UNITS,
        )
        assert done.finished_at is not None
        assert (refused.status, refused.error) == ("failed", "not a counting file")
        assert registry.get_import(session, import_id, site_id + 1) is None

    assert remove_import(stores, site_id, import_id)
    assert import_id not in importer.written
    assert not remove_import(stores, site_id, import_id)
    with stores.control.session() as session:
        assert [r.id for r in registry.list_imports(session, site_id)] == [refused_id]

    # A queued import deleted before it ran: its uploaded file goes with it.
    upload = registry.imports_dir(stores.settings) / "abc-units.txt"
    upload.write_text("1 2 3")
    with stores.control.session() as session:
        queued = registry.create_import(session, site_id, "counting", "units.txt",
                                        {"path": str(upload)}).id  # fmt: skip
    assert remove_import(stores, site_id, queued) and not upload.exists()
