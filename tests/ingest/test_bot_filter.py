"""The live pipeline keeps people's browsers and drops bots with their reason."""

from __future__ import annotations

import csv
import gzip
import io
import random
import time
from pathlib import Path

import pytest

from jetrack.enrich import GeoLookup
from jetrack.ingest.client_ip import parse_address
from jetrack.ingest.pipeline import Dropped, Incoming, Pipeline
from jetrack.ingest.sessions import SessionTable
from jetrack.ingest.site_cache import SiteCache
from jetrack.ingest.wire import parse_event
from jetrack.store.salts import SaltRing
from jetrack.store.stores import Stores

LABELS = Path(__file__).parents[2] / "bench" / "data" / "bot_labels.csv.gz"

BOTS = {
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)": "bot_ua",
    "Mozilla/5.0 (compatible)": "bot_ua",
    "Mozilla/5.0 (compatible; Acme/1.0; +https://acme.example/agent)": "bot_ua",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Google-Sites-Thumbnails": "bot_ua",
    "curl/8.5.0": "bot_ua",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/131.0.0.0 Safari/537.36": "automation",
}


def test_browsers_are_kept_and_bots_dropped_with_their_reason(site_stores: Stores) -> None:
    text = gzip.decompress(LABELS.read_bytes()).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    browsers = random.Random(19).sample([r["ua"] for r in rows if r["label"] == "human"], 60)
    sites = SiteCache(site_stores.control)
    sites.refresh()
    pipeline = Pipeline(sites, GeoLookup(), SessionTable(30 * 60), SaltRing(site_stores.control))
    wire = parse_event({"n": "pageview", "u": "https://example.com/", "d": "example.com"})
    now = time.time()

    def run(number: int, user_agent: str) -> tuple[object, ...]:
        address = parse_address(f"203.0.{number // 250}.{number % 250 + 1}")
        return tuple(pipeline.run(Incoming(wire, "example.com", address, user_agent, "", now)))

    kept = [run(number, ua) for number, ua in enumerate(browsers)]
    assert len(kept) == len(browsers)
    for number, (user_agent, reason) in enumerate(BOTS.items(), start=len(browsers)):
        with pytest.raises(Dropped) as caught:
            run(number, user_agent)
        assert caught.value.reason.value == reason, user_agent
