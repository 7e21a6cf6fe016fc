"""A Plausible CSV export with known totals, written as Plausible's export names and lays
out its files (a ZIP of imported_<table>_<first>_<last>.csv), for the importer's tests."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, timedelta
from pathlib import Path

FIRST = date(2024, 3, 1)
DAYS = 3
LAST = FIRST + timedelta(days=DAYS - 1)
# Per day: 100 visitors, 120 visits, 300 pageviews, 60 bounces, 120 * 50 s of visits.
VISITORS, VISITS, PAGEVIEWS, BOUNCES, DURATION = 100, 120, 300, 60, 6000
# Over the 3 days: visits by source (the rest of the visits, 20 a day, are Direct).
SOURCES = {"Google": 70, "Twitter": 30}
PAGES = {"/": 200, "/pricing": 100}  # pageviews a day
COUNTRIES = {"DE": 80, "FR": 40}  # visits a day
DEVICES = {"Desktop": 90, "Mobile": 30}


def _csv(header: list[str], rows: list[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def export_files(first: date = FIRST, days: int = DAYS) -> dict[str, str]:
    """File name -> CSV text, in the columns' order of Plausible's export."""
    stamp = f"{first:%Y%m%d}_{first + timedelta(days=days - 1):%Y%m%d}"
    each = [first + timedelta(days=n) for n in range(days)]
    share = VISITS
    files = {
        "imported_visitors": _csv(
            ["date", "visitors", "pageviews", "bounces", "visits", "visit_duration"],
            [[d, VISITORS, PAGEVIEWS, BOUNCES, VISITS, DURATION] for d in each],
        ),
        "imported_sources": _csv(
            ["date", "source", "referrer", "utm_source", "utm_medium", "utm_campaign",
             "utm_content", "utm_term", "pageviews", "visitors", "visits", "visit_duration",
             "bounces"],
            [[d, name, "", "", "", "", "", "", visits * 2, visits, visits, visits * 50, visits // 2]
             for d in each for name, visits in [*SOURCES.items(), ("", 20)]],
        ),
        "imported_pages": _csv(
            ["date", "hostname", "page", "visits", "visitors", "pageviews", "scroll_depth",
             "pageleave_visitors"],
            [[d, "example.com", page, views // 2, views // 3, views, "", 0]
             for d in each for page, views in PAGES.items()],
        ),
        "imported_entry_pages": _csv(
            ["date", "entry_page", "visitors", "entrances", "visit_duration", "bounces",
             "pageviews"],
            [[d, "/", VISITORS, share, DURATION, BOUNCES, PAGEVIEWS] for d in each],
        ),
        "imported_exit_pages": _csv(
            ["date", "exit_page", "visitors", "visit_duration", "exits", "bounces", "pageviews"],
            [[d, "/pricing", VISITORS, DURATION, share, BOUNCES, PAGEVIEWS] for d in each],
        ),
        "imported_custom_events": _csv(
            ["date", "name", "link_url", "path", "visitors", "events"],
            [[d, "Signup", "", "", 5, 6] for d in each],
        ),
        "imported_locations": _csv(
            ["date", "country", "region", "city", "visitors", "visits", "visit_duration",
             "bounces", "pageviews"],
            [[d, code, "", 0, visits, visits, visits * 50, visits // 2, visits * 2]
             for d in each for code, visits in COUNTRIES.items()],
        ),
        "imported_devices": _csv(
            ["date", "device", "visitors", "visits", "visit_duration", "bounces", "pageviews"],
            [[d, name, visits, visits, visits * 50, visits // 2, visits * 2]
             for d in each for name, visits in DEVICES.items()],
        ),
        "imported_browsers": _csv(
            ["date", "browser", "browser_version", "visitors", "visits", "visit_duration",
             "bounces", "pageviews"],
            [[d, "Firefox", "120", VISITORS, VISITS, DURATION, BOUNCES, PAGEVIEWS] for d in each],
        ),
        "imported_operating_systems": _csv(
            ["date", "operating_system", "operating_system_version", "visitors", "visits",
             "visit_duration", "bounces", "pageviews"],
            [[d, "Linux", "", VISITORS, VISITS, DURATION, BOUNCES, PAGEVIEWS] for d in each],
        ),
    }  # fmt: skip
    return {f"{table}_{stamp}.csv": text for table, text in files.items()}


def write_export(path: Path, first: date = FIRST, days: int = DAYS) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in export_files(first, days).items():
            archive.writestr(name, text)
    return path
