"""What every importer's test checks: the imported site's reports through the Stats API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from jetrack.imports import registry, replay
from jetrack.imports.foreground import Outcome, run_in_foreground
from jetrack.stats.engine import run_query
from jetrack.stats.query import SiteInfo
from jetrack.store.job_queue import Stopping
from jetrack.store.models import Site
from jetrack.store.stores import Stores
from tests.privacy.helpers import make_account

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Safari/537.36"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
METRICS = ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"]


def make_site(stores: Stores, domain: str = "example.com") -> Site:
    _, (site_id,) = make_account(stores, f"owner@{domain}", domain)
    with stores.control.session() as session:
        site = session.get(Site, site_id)
        assert site is not None
        session.expunge(site)
    return site


def report(stores: Stores, site: Site, first: str, last: str) -> dict[str, Any]:
    """The totals and the breakdowns an import test compares, for days first..last."""
    info = SiteInfo(site.id, site.domain)
    body: dict[str, Any] = {"site_id": site.domain, "date_range": [first, last]}

    def rows(metrics: list[str], dimension: str) -> list[list[Any]]:
        answer = run_query(
            stores.events, info, {**body, "metrics": metrics, "dimensions": [dimension]}
        )
        return sorted([*r["dimensions"], *r["metrics"]] for r in answer["results"])

    totals = run_query(stores.events, info, {**body, "metrics": METRICS})["results"][0]["metrics"]
    return {
        "totals": totals,
        "sources": rows(["visitors"], "visit:source"),
        "pages": rows(["visitors", "pageviews"], "event:page"),
        "countries": rows(["visitors"], "visit:country"),
        "devices": rows(["visitors"], "visit:device"),
        "browsers": rows(["visitors"], "visit:browser"),
    }


def stop_at(monkeypatch: pytest.MonkeyPatch, call: int) -> Callable[..., None]:
    """Imports write batches of 2 rows, and the process stops at the `call`th checkpoint
    (odd: a batch about to land; even: one that landed, its checkpoint not recorded).
    Returns the real record_progress, to put back."""
    monkeypatch.setattr(replay, "BATCH_ROWS", 2)
    record_progress = registry.record_progress
    calls = 0

    def stopping(*args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == call:
            raise Stopping()
        record_progress(*args)

    monkeypatch.setattr(registry, "record_progress", stopping)
    return record_progress


def import_with_a_stop(
    stores: Stores,
    site: Site,
    kind: str,
    params: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    call: int,
    secrets: dict[str, str] | None = None,
) -> Outcome:
    """An import stopped at the `call`th checkpoint (stop_at), then the same import
    again: it resumes. Returns the resumed run's outcome."""
    record_progress = stop_at(monkeypatch, call)
    with pytest.raises(Stopping):
        run_in_foreground(stores, site, kind, "test", params, secrets)
    monkeypatch.setattr(registry, "record_progress", record_progress)
    outcome = run_in_foreground(stores, site, kind, "test", params, secrets)
    assert outcome.resumed
    return outcome
