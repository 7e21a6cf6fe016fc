"""CSV exports cannot run formulas in a spreadsheet: the dashboard ZIP and the data export."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from jetrack.privacy.csv_cells import csv_cell
from jetrack.privacy.dashboard_export import dashboard_zip
from jetrack.privacy.export import write_site_events
from jetrack.stats.query import SiteInfo
from jetrack.store.stores import Stores
from tests.stats.helpers import insert, visit

HOSTILE = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("https://evil.example","click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r\n=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize(
    ("value", "written"),
    [(text, "'" + text) for text in HOSTILE]
    + [
        ("/pricing", "/pricing"),
        ("a=b", "a=b"),
        ("", ""),
        ("-5", "-5"),  # only a number: a spreadsheet reads a number, runs nothing
        ("-1.25", "-1.25"),
        (-3, -3),
        (2.5, 2.5),
        (None, None),
    ],
)
def test_csv_cell(value: Any, written: Any) -> None:
    assert csv_cell(value) == written


def _hostile_site(stores: Stores) -> None:
    rows = []
    for number, path in enumerate(HOSTILE, start=1):
        rows += visit(number, number, [("2024-03-10 08:00", "/" + str(number))],
                      source=path, utm_campaign=path)  # fmt: skip
        rows[-1]["pathname"] = path
    insert(stores, rows)


def test_the_dashboard_zip_neutralises_formulas(stores: Stores) -> None:
    _hostile_site(stores)
    site = SiteInfo(1, "example.com", "UTC", ())
    data = dashboard_zip(
        stores.events, site, "example.com", {"date_range": ["2024-03-10", "2024-03-10"]}
    )
    archive = zipfile.ZipFile(io.BytesIO(data))
    for name in ("sources.csv", "utm_campaigns.csv", "pages.csv"):
        rows = list(csv.reader(io.StringIO(archive.read(name).decode(), newline="")))
        values = {row[0] for row in rows[1:]}
        assert {"'" + text for text in HOSTILE} <= values, name
        assert all(not value.startswith(("=", "+", "-", "@", "\t", "\r")) for value in values)
        assert all(row[1].isdigit() for row in rows[1:])  # metrics stay numbers


def test_the_data_export_csv_neutralises_formulas_and_parquet_keeps_values(
    stores: Stores, tmp_path: Path
) -> None:
    _hostile_site(stores)
    site = {"id": 1, "domain": "example.com", "timezone": "UTC"}
    assert write_site_events(stores.events, site, tmp_path) == len(HOSTILE)
    with open(tmp_path / "events.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["pathname"] for row in rows} == {"'" + text for text in HOSTILE}
    assert {row["source"] for row in rows} == {"'" + text for text in HOSTILE}
    assert {row["site_id"] for row in rows} == {"1"}
    parquet = pq.read_table(tmp_path / "events.parquet")
    assert set(parquet.column("pathname").to_pylist()) == set(HOSTILE)
