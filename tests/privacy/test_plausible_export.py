"""The dashboard export's plausible/ folder, Plausible's CSV import format, imported back
with jetrack.imports.plausible into another site: the same numbers through the Stats API
(totals, rates, sources, channels, pages, countries, devices, days)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from jetrack.imports import registry
from jetrack.jobs import runner
from jetrack.privacy.dashboard_export import dashboard_zip
from jetrack.stats.engine import run_query
from jetrack.stats.query import SiteInfo
from jetrack.store.stores import Stores
from tests.privacy.helpers import make_account
from tests.stats.helpers import event, insert, visit

RANGE = ["2024-03-09", "2024-03-11"]
QUERIES: list[dict[str, Any]] = [
    {"metrics": ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration",
                 "views_per_visit"]},
    {"metrics": ["visitors", "visits", "bounce_rate"], "dimensions": ["visit:source"]},
    {"metrics": ["visitors", "pageviews"], "dimensions": ["event:page"]},
    {"metrics": ["visitors", "visits"], "dimensions": ["visit:channel"],
     "filters": [["is_not", "visit:channel", ["Direct"]]]},
    {"metrics": ["visitors"], "dimensions": ["visit:country"]},
    {"metrics": ["visitors", "visit_duration"], "dimensions": ["visit:device"]},
    {"metrics": ["visits"], "dimensions": ["visit:entry_page"]},
    {"metrics": ["visitors", "events"], "dimensions": ["event:name"],
     "filters": [["is", "event:name", ["Signup"]]]},
    {"metrics": ["visitors", "pageviews"], "dimensions": ["time:day"]},
]  # fmt: skip


def native_traffic(site_id: int) -> list[dict[str, Any]]:
    """Visits in Berlin's days of the range; each visitor on one day only."""
    de = {"site_id": site_id, "source": "Google", "channel": "Organic Search",
          "country_code": "DE", "device": "Desktop"}  # fmt: skip
    fr = {"site_id": site_id, "country_code": "FR", "device": "Mobile", "browser": "Safari"}
    rows = visit(1, 1, [("2024-03-09 10:00", "/"), ("2024-03-09 10:03", "/pricing")], **de)
    rows += visit(2, 2, [("2024-03-09 12:00", "/blog")], **fr)
    rows += visit(3, 3, [("2024-03-10 08:00", "/"), ("2024-03-10 08:00:40", "/a")], **fr)
    rows += [event("2024-03-10 08:01", name="Signup", session_id=3, visitor_id=3, **fr)]
    rows += visit(
        4,
        4,
        [("2024-03-11 09:00", "/pricing")],
        referrer="t.co",
        **(de | {"channel": "Paid Search"}),
    )
    rows += visit(5, 5, [("2024-03-11 22:30", "/")], **de)  # 23:30 in Berlin: still the 11th
    return rows


def test_the_export_imported_back_gives_the_same_numbers(stores: Stores, tmp_path: Path) -> None:
    _, (old_id, new_id) = make_account(stores, "o@example.com", "old.example", "new.example")
    insert(stores, native_traffic(old_id))
    old = SiteInfo(old_id, "old.example", "Europe/Berlin")
    new = SiteInfo(new_id, "new.example", "Europe/Berlin")
    data = dashboard_zip(stores.events, old, old.domain, {"date_range": RANGE})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [n for n in archive.namelist() if n.startswith("plausible/")]
        visitors_csv = archive.read("plausible/imported_visitors_20240309_20240311.csv").decode()
    assert len(names) == 10
    assert visitors_csv.splitlines() == [
        "date,visitors,pageviews,bounces,visits,visit_duration",
        "2024-03-09,2,3,1,2,180",
        "2024-03-10,1,2,0,1,60",
        "2024-03-11,2,2,2,2,0",
    ]
    path = tmp_path / "old.example-export.zip"
    path.write_bytes(data)  # the whole dashboard export: the panels' CSVs are skipped
    with stores.control.session() as session:
        import_id = registry.create_import(session, new_id, "plausible", path.name,
                                          {"path": str(path)}).id  # fmt: skip
    assert runner.run_pending(stores, kinds=("import",)) == 1
    with stores.control.session() as session:
        record = registry.get_import(session, import_id)
        assert record is not None and record.status == "done", record and record.error
        assert (str(record.first_day), str(record.last_day)) == (RANGE[0], RANGE[1])

    for body in QUERIES:
        request = {"date_range": RANGE} | body
        before = run_query(stores.events, old, {"site_id": old.domain} | request)
        after = run_query(
            stores.events, new, {"site_id": new.domain, "include": {"imports": True}} | request
        )
        assert after["meta"]["imports_included"] is True, body
        assert after["results"] == before["results"], body
        assert before["results"], body
