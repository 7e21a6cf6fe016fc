"""Plausible's CSV export imported by the `import` job into the imported tables: the rows
and days recorded, a stop after each chunk resumed without a row twice, bad files
refused with a message that names the file, delete removes the import's rows only, and
a deleted site's purge removes its imported rows."""

from __future__ import annotations

import threading
import zipfile
from pathlib import Path

import pytest

from jetrack.imports import registry
from jetrack.imports.kinds import remove_import
from jetrack.imports.plausible import PLAUSIBLE, parse_file_name
from jetrack.jobs import runner
from jetrack.store.job_queue import JobContext
from jetrack.store.models import Site
from jetrack.store.stores import Stores
from tests.imports import plausible_export as export
from tests.privacy.helpers import make_account


def totals(stores: Stores, site_id: int) -> tuple[int, int, int]:
    """(visitors of imported_visitors, pageviews of imported_pages, rows of all tables)."""
    visitors = stores.events.query(
        "SELECT sum(visitors) FROM imported_visitors WHERE site_id = {s:UInt32}", {"s": site_id}
    ).rows[0][0]
    pageviews = stores.events.query(
        "SELECT sum(pageviews) FROM imported_pages WHERE site_id = {s:UInt32}", {"s": site_id}
    ).rows[0][0]
    rows = sum(
        int(stores.events.query(f"SELECT count() FROM {t} WHERE site_id = {{s:UInt32}}",
                                {"s": site_id}).rows[0][0])
        for t in ("imported_visitors", "imported_sources", "imported_pages",
                  "imported_entry_pages", "imported_exit_pages", "imported_custom_events",
                  "imported_locations", "imported_devices", "imported_browsers",
                  "imported_operating_systems")
    )  # fmt: skip
    return int(visitors or 0), int(pageviews or 0), rows


def queue(stores: Stores, site_id: int, path: Path) -> int:
    with stores.control.session() as session:
        return registry.create_import(
            session, site_id, "plausible", path.name, {"path": str(path)}
        ).id


def test_file_names_as_plausible_writes_them() -> None:
    parsed = parse_file_name("imported_devices_20190101_20210101.csv")
    assert parsed is not None and parsed[0].name == "imported_devices"
    assert parse_file_name("export/pages_20200101_20220101.csv") is not None
    assert parse_file_name("my_data.csv") is None
    assert parse_file_name("imported_devices_20191301_20210101.csv") is None


@pytest.mark.slow
def test_import_stopped_after_each_chunk_resumes_to_the_same_totals(
    stores: Stores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, (site_id, other_id) = make_account(stores, "o@example.com", "example.com", "other.com")
    path = export.write_export(tmp_path / "plausible-export.zip")
    monkeypatch.setattr(PLAUSIBLE, "chunk_rows", 2)
    stopping = threading.Event()
    saves = 0
    real_save = JobContext.save

    def stop_every_time(context: JobContext, progress: int | None = None) -> None:
        nonlocal saves
        saves += 1
        real_save(context, progress)
        stopping.set()  # the process stops after every chunk it stored

    monkeypatch.setattr(JobContext, "save", stop_every_time)
    import_id = queue(stores, site_id, path)
    runs = 0
    while runner.run_one(stores, in_server=True, kinds=("import",), stopping=stopping) is False:
        stopping.clear()
        runs += 1
        assert runs < 100
    assert runs > 10  # it really was stopped many times
    with stores.control.session() as session:
        record = registry.get_import(session, import_id)
        assert record is not None and record.status == "done", record.error if record else None
        assert (record.first_day, record.last_day) == (export.FIRST, export.LAST)
        assert record.done == record.total > 0
        rows = record.rows
    visitors, pageviews, stored = totals(stores, site_id)
    assert visitors == export.VISITORS * export.DAYS
    assert pageviews == sum(export.PAGES.values()) * export.DAYS
    assert stored == rows == 3 * (1 + 3 + 2 + 1 + 1 + 1 + 2 + 2 + 1 + 1)

    # A second import of another site, then the first deleted: only its rows go.
    monkeypatch.setattr(JobContext, "save", real_save)
    second = queue(stores, other_id, path)
    assert runner.run_pending(stores, kinds=("import",)) == 1
    assert remove_import(stores, site_id, import_id)
    assert totals(stores, site_id) == (0, 0, 0)
    assert totals(stores, other_id)[2] == rows
    with stores.control.session() as session:
        assert registry.get_import(session, second) is not None

    # Deleting the site: the purge erases its imported rows like its events.
    with stores.control.session() as session:
        session.delete(session.get(Site, other_id))
    runner.run_pending(stores, kinds=runner.PURGE_KINDS)
    assert totals(stores, other_id) == (0, 0, 0)


def test_bad_exports_fail_with_a_message(stores: Stores, tmp_path: Path) -> None:
    _, (site_id,) = make_account(stores, "o@example.com", "example.com")
    empty = tmp_path / "notes.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("notes.txt", "hello")
    bad_number = tmp_path / "imported_visitors_20240301_20240303.csv"
    bad_number.write_text("date,visitors\n2024-03-01,lots\n")
    no_header = tmp_path / "imported_pages_20240301_20240303.csv"
    no_header.write_text("date,visitors\n2024-03-01,3\n")
    ids = [queue(stores, site_id, p) for p in (empty, bad_number, no_header)]
    runner.run_pending(stores, kinds=("import",))
    with stores.control.session() as session:
        errors = [registry.get_import(session, i).error for i in ids]  # type: ignore[union-attr]
    assert "no Plausible export file found" in errors[0]
    assert errors[1] == (
        "imported_visitors_20240301_20240303.csv line 2, visitors: 'lots' is not a number"
    )
    assert errors[2] == "imported_pages_20240301_20240303.csv: the header lacks page"
    assert totals(stores, site_id) == (0, 0, 0)
