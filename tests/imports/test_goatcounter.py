"""A GoatCounter CSV export (version 2, gzip) with known totals, imported with a stop in
the middle and resumed, read back through the Stats API; another version is refused."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import pytest

from jetrack.imports.context import ImportRefused
from jetrack.imports.goatcounter import COLUMNS, GoatCounterExport
from jetrack.store.stores import Stores
from tests.imports.helpers import import_with_a_stop, make_site, report

CHROME, FIREFOX, SAFARI = (
    ("Chrome 124", "Windows 10"),
    ("Firefox 125", "Linux"),
    ("Safari 17.4", "iOS 17.4"),
)
# (path, event?, (browser, system), session, bot, referrer, scheme, screen, location, date)
ROWS = [
    ("/", False, CHROME, "s1", "0", "www.google.com/search", "h", "1920,1080,1", "GB", "2024-03-05T10:00:00Z"),
    ("/pricing", False, CHROME, "s1", "0", "", "", "1920,1080,1", "GB", "2024-03-05T10:01:00Z"),
    ("signup", True, CHROME, "s1", "0", "", "", "1920,1080,1", "GB", "2024-03-05T10:02:00Z"),
    ("/about.html", False, CHROME, "s1", "0", "", "", "1920,1080,1", "GB", "2024-03-05T10:03:00Z"),
    ("/", False, CHROME, "bot", "7", "", "", "", "", "2024-03-05T10:30:00Z"),
    ("/pricing", False, FIREFOX, "s2", "0", "Hacker News", "g", "1366,768,1", "US-TX", "2024-03-05T11:00:00Z"),
    ("/blog/", False, SAFARI, "s3", "0", "newsletter", "c", "390,844,3", "DE", "2024-03-05T12:00:00Z"),
    ("/", False, FIREFOX, "s2", "0", "", "", "1366,768,1", "US-TX", "2024-03-05T12:10:00Z"),
    ("/", False, FIREFOX, "s4", "0", "", "", "1366,768,1", "", "2024-03-06T00:05:00Z"),
    ("/pricing", False, FIREFOX, "s4", "0", "", "", "1366,768,1", "", "2024-03-06T00:06:00Z"),
]  # fmt: skip


def export(path: Path, version: str = "2") -> Path:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([version + COLUMNS[0], *COLUMNS[1:]])
    for page, event, (browser, system), session, bot, ref, scheme, screen, where, when in ROWS:
        title = 'A "quoted",\nmulti-line title'
        writer.writerow([page, title, str(event).lower(), "", browser, system, session, bot, ref,
                         scheme, screen, where, "true", when])  # fmt: skip
    path.write_bytes(gzip.compress(out.getvalue().encode()))
    return path


@pytest.mark.slow
def test_an_export_imports_with_known_totals_after_a_stop(
    stores: Stores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(stores)
    params = {"paths": [str(export(tmp_path / "export.csv.gz"))]}
    outcome = import_with_a_stop(stores, site, "goatcounter", params, monkeypatch, call=4)
    assert (outcome.rows, outcome.skipped) == (9, {"bot": 1})
    got = report(stores, site, "2024-03-05", "2024-03-06")
    assert got == {
        # 4 visitors, 5 visits, 8 pageviews (and 1 custom event), 3 bounces, 240 s / 5
        "totals": [4, 5, 8, 60.0, 48],
        "sources": [["Direct / None", 2], ["Google", 1], ["Hacker News", 1], ["newsletter", 1]],
        "pages": [["/", 3, 3], ["/about.html", 1, 1], ["/blog/", 1, 1], ["/pricing", 3, 3]],
        "countries": [["", 1], ["DE", 1], ["GB", 1], ["US", 1]],  # s4: no location
        "devices": [["Desktop", 3], ["Mobile", 1]],
        "browsers": [["Chrome", 1], ["Firefox", 2], ["Safari", 1]],
    }


def test_another_version_is_refused(tmp_path: Path) -> None:
    source = GoatCounterExport([export(tmp_path / "v1.csv.gz", version="1")], "example.com")
    with pytest.raises(ImportRefused, match="version 2"):
        list(source.records(None))
