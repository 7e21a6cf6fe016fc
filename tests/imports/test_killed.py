"""An import killed (SIGKILL) after its first chunk: `jetrack import resume` finishes it
from its checkpoint with the same totals; the whole import run again from no checkpoint
counts nothing twice (rows past a checkpoint are deleted first); the CLI's errors name
what is wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jetrack.imports import registry
from jetrack.jobs import runner
from jetrack.jobs.imports import PROGRESS_STEP
from jetrack.store import job_queue
from jetrack.store.stores import open_stores
from tests.conftest import TEST_KEY, kill_when_paused, make_settings
from tests.imports import plausible_export as export
from tests.imports.test_plausible import totals
from tests.privacy.helpers import make_account
from tests.test_cli import invoke

ROWS = 3 * (1 + 3 + 2 + 1 + 1 + 1 + 2 + 2 + 1 + 1)


def _import_process(data_dir: Path, path: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JETRACK_")}
    env.update({"JETRACK_DATA_DIR": str(data_dir), "JETRACK_ENCRYPTION_KEY": TEST_KEY,
                "JETRACK_LOG_LEVEL": "warning", job_queue.PAUSE_AFTER_STEP_ENV: PROGRESS_STEP})  # fmt: skip
    command = ["import", "plausible", "--site", "example.com", str(path)]
    return subprocess.Popen([sys.executable, "-m", "jetrack.cli", *command], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


@pytest.mark.slow
def test_killed_import_resumes_to_the_same_totals(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    path = export.write_export(tmp_path / "export.zip")
    stores = open_stores(settings)
    try:
        _, (site_id,) = make_account(stores, "o@example.com", "example.com")
    finally:
        stores.close()

    kill_when_paused(_import_process(settings.data_dir, path), PROGRESS_STEP)

    stores = open_stores(settings)
    try:
        with stores.control.session() as session:
            (record,) = registry.list_imports(session, site_id)
            assert record.status == "running" and record.checkpoint
            import_id = record.id
        assert 0 < totals(stores, site_id)[2] < ROWS  # the first file only
    finally:
        stores.close()

    resumed = invoke(settings.data_dir, "import", "resume")
    assert resumed.returncode == 0 and "import: 1 import(s) run" in resumed.stdout

    stores = open_stores(settings)
    try:
        expected = (export.VISITORS * export.DAYS, sum(export.PAGES.values()) * export.DAYS, ROWS)
        assert totals(stores, site_id) == expected
        # Run it all again from no checkpoint (as if every write was killed before its
        # progress call): each file's rows past the checkpoint are deleted first.
        with stores.control.session() as session:
            again = registry.get_import(session, import_id)
            assert again is not None and again.status == "done" and again.rows == ROWS
            again.status, again.checkpoint = "queued", ""
            job_queue.enqueue(session, registry.JOB_KIND, {"import_id": import_id})
        assert runner.run_pending(stores, kinds=(registry.JOB_KIND,)) == 1
        assert totals(stores, site_id) == expected
    finally:
        stores.close()

    missing = invoke(settings.data_dir, "import", "plausible", "--site", "nope.example", str(path))
    assert missing.returncode == 2 and "--site: no site nope.example" in missing.stderr
    bad = tmp_path / "imported_pages_20240301_20240303.csv"
    bad.write_text("date,visitors\n2024-03-01,3\n")
    failed = invoke(settings.data_dir, "import", "plausible", "--site", "example.com", str(bad))
    assert failed.returncode == 1
    assert "imported_pages_20240301_20240303.csv: the header lacks page" in failed.stderr
    done = invoke(settings.data_dir, "import", "plausible", "--site", "example.com", str(path))
    assert done.returncode == 0, done.stderr
    assert f"{ROWS} rows, {export.FIRST} to {export.LAST}" in done.stdout
