"""The dashboard export: a ZIP of CSVs, one per panel, for the dashboard's range and filters,
and the range's whole-site history in Plausible's CSV import format (folder plausible/)."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from typing import Any

from jetrack.privacy.csv_cells import csv_cell
from jetrack.privacy.plausible_export import plausible_files
from jetrack.stats.engine import prepare, run_validated
from jetrack.stats.schema import validate_request
from jetrack.store.events import EventStore

# File name -> (dimension, metrics); the panels of the dashboard.
PANELS: dict[str, tuple[str, list[str]]] = {
    "channels": ("visit:channel", ["visitors", "visits"]),
    "sources": ("visit:source", ["visitors", "visits", "bounce_rate", "visit_duration"]),
    "referrers": ("visit:referrer", ["visitors", "visits"]),
    "utm_mediums": ("visit:utm_medium", ["visitors", "visits"]),
    "utm_sources": ("visit:utm_source", ["visitors", "visits"]),
    "utm_campaigns": ("visit:utm_campaign", ["visitors", "visits"]),
    "utm_contents": ("visit:utm_content", ["visitors", "visits"]),
    "utm_terms": ("visit:utm_term", ["visitors", "visits"]),
    "pages": ("event:page", ["visitors", "pageviews"]),
    "entry_pages": ("visit:entry_page", ["visitors", "visits"]),
    "exit_pages": ("visit:exit_page", ["visitors", "visits"]),
    "countries": ("visit:country", ["visitors"]),
    "regions": ("visit:region", ["visitors"]),
    "cities": ("visit:city_name", ["visitors"]),
    "browsers": ("visit:browser", ["visitors"]),
    "operating_systems": ("visit:os", ["visitors"]),
    "devices": ("visit:device", ["visitors"]),
    "screen_sizes": ("visit:screen", ["visitors"]),
    "languages": ("visit:language", ["visitors"]),
}
CONTEXT_KEYS = ("date_range", "filters")
# Where the ZIP holds the Plausible CSV import files (upload them to Plausible's CSV
# import, or import the whole ZIP into Jetrack with `jetrack import plausible`).
PLAUSIBLE_FOLDER = "plausible"


def panel_request(
    context: dict[str, Any], domain: str, dimension: str, metrics: list[str]
) -> dict[str, Any]:
    request: dict[str, Any] = {key: context[key] for key in CONTEXT_KEYS if key in context}
    request.setdefault("date_range", "30d")
    request.update({"site_id": domain, "metrics": metrics, "dimensions": [dimension]})
    return request


def _csv(name: str, dimension: str, metrics: list[str], answer: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([dimension.split(":", 1)[1], *metrics])
    for row in answer.get("results", []):
        cells = [*row.get("dimensions", []), *row.get("metrics", [])]
        writer.writerow([csv_cell(cell) for cell in cells])
    return out.getvalue()


def dashboard_zip(
    events: EventStore, site: Any, domain: str, context: dict[str, Any], now: datetime | None = None
) -> bytes:
    """Run every panel's query with the same range and filters; raises the engine's
    QueryError (with its message naming the bad field) for a bad range or filter."""
    # The panels differ only in their own dimension and metrics: the client's range and
    # filters are validated once, not once per panel.
    requests = {
        name: panel_request(context, domain, dimension, metrics)
        for name, (dimension, metrics) in PANELS.items()
    }
    validate_request(next(iter(requests.values())))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, (dimension, metrics) in PANELS.items():
            answer = run_validated(events, site, requests[name], now=now)
            archive.writestr(f"{name}.csv", _csv(name, dimension, metrics, answer))
        span = prepare(events, site, requests["pages"], now=now).date_range
        for file_name, text in plausible_files(events, site.id, span).items():
            archive.writestr(f"{PLAUSIBLE_FOLDER}/{file_name}", text)
    return buffer.getvalue()
