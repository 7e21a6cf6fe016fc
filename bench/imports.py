"""Access-log import: a generated combined log (1 GB by default: pages, assets, bots,
redirects, errors, other methods) imported into a fresh data dir; prints lines/s, the
events stored and the process's RSS as the import goes (flat memory) and at its peak.

    PYTHONPATH=src .venv/bin/python bench/imports.py [--mb 1024] [--days 30]
"""

from __future__ import annotations

import argparse
import random
import resource
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.privacy.helpers import make_account  # noqa: E402

from jetrack.config import load_settings  # noqa: E402
from jetrack.imports.foreground import run_in_foreground  # noqa: E402
from jetrack.store.models import Site  # noqa: E402
from jetrack.store.stores import open_stores  # noqa: E402

AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.{m} Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{m} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.{m} Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
]
BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "python-requests/2.31.0",
    "curl/8.5.0",
    "Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
]
PAGES = ["/", "/pricing", "/about", "/blog/", "/docs/start", "/contact", "/features"] + [
    f"/blog/post-{n}" for n in range(300)
]
ASSETS = ["/css/site.css?v=12", "/js/app.js?v=12", "/img/logo.svg", "/img/hero.webp",
          "/fonts/inter.woff2", "/favicon.ico"]  # fmt: skip
REFERRERS = ["-", "-", "-", "https://www.google.com/", "https://news.ycombinator.com/",
             "https://duckduckgo.com/", "https://t.co/abc", "https://www.reddit.com/r/x/"]  # fmt: skip


def generate(path: Path, megabytes: int, days: int, seed: int = 7) -> int:
    """Write the log in time order; returns its number of lines."""
    rng = random.Random(seed)
    limit = megabytes * 1024 * 1024
    start = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
    step = days * 86_400 / (limit / 230)  # seconds between lines, ~230 bytes a line
    now = float(start)
    written = lines = 0
    visitors = [
        (f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
         rng.choice(AGENTS).format(v=rng.randint(118, 126), m=rng.randint(0, 5)))
        for _ in range(200_000)
    ]  # fmt: skip
    with path.open("w", buffering=1 << 20) as out:
        while written < limit:
            chunk = []
            for _ in range(1000):
                now += rng.expovariate(1 / step)
                stamp = datetime.fromtimestamp(int(now), UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
                roll = rng.random()
                if roll < 0.22:  # crawlers and scripts
                    ip = f"66.249.{rng.randint(64, 95)}.{rng.randint(1, 254)}"
                    agent, method, target, status = rng.choice(BOTS), "GET", rng.choice(PAGES), 200
                    referrer = "-"
                else:
                    ip, agent = visitors[int(rng.paretovariate(1.2) * 50) % len(visitors)]
                    referrer = rng.choice(REFERRERS)
                    method, status = "GET", 200
                    if roll < 0.50:
                        target = rng.choice(PAGES)
                    elif roll < 0.90:
                        target, referrer = rng.choice(ASSETS), "https://example.com/"
                    elif roll < 0.95:
                        target, status = rng.choice(PAGES), rng.choice([304, 301, 404, 404, 500])
                    else:
                        target, method = rng.choice(PAGES), rng.choice(["POST", "HEAD", "OPTIONS"])
                chunk.append(
                    f'{ip} - - [{stamp}] "{method} {target} HTTP/1.1" {status}'
                    f' {rng.randint(200, 90_000)} "{referrer}" "{agent}"\n'
                )
            text = "".join(chunk)
            out.write(text)
            written += len(text)
            lines += len(chunk)
    return lines


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1024, help="size of the log (default 1024)")
    parser.add_argument("--days", type=int, default=30, help="days the log spans (default 30)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jetrack-bench-") as tmp:
        log = Path(tmp) / "access.log"
        began = time.perf_counter()
        lines = generate(log, args.mb, args.days)
        print(
            f"generated {log.stat().st_size / 2**20:,.0f} MB, {lines:,} lines over {args.days}"
            f" days in {time.perf_counter() - began:.0f} s"
        )
        settings = load_settings(
            data_dir=Path(tmp) / "data", encryption_key=secrets.token_hex(32),
            log_level="error", geo_dir=ROOT / "geo",
        )  # fmt: skip
        stores = open_stores(settings)
        try:
            _, (site_id,) = make_account(stores, "owner@example.com", "example.com")
            with stores.control.session() as session:
                site = session.get(Site, site_id)
                assert site is not None
                session.expunge(site)
            samples: list[tuple[int, float]] = []

            def report(done: int, total: int) -> None:
                percent = done * 100 // total if total else 0
                if not samples or percent >= samples[-1][0] + 10:
                    samples.append((percent, rss_mb()))

            before = rss_mb()
            cpu_before = sum(psutil.Process().cpu_times()[:2])
            began = time.perf_counter()
            params = {"paths": [str(log)], "format": "combined"}
            outcome = run_in_foreground(stores, site, "access-log", log.name, params, None, report)
            took = time.perf_counter() - began
            cpu = sum(psutil.Process().cpu_times()[:2]) - cpu_before
        finally:
            stores.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"imported in {took:.0f} s: {lines / took:,.0f} lines/s, {outcome.rows:,} events")
    print(
        f"CPU time of the process (all its threads) {cpu:.0f} s: {lines / cpu:,.0f} lines per"
        f" CPU second; load average {psutil.getloadavg()[0]:.1f} on {psutil.cpu_count()} cores"
    )
    print(f"skipped: {', '.join(f'{k} {v:,}' for k, v in sorted(outcome.skipped.items()))}")
    print(f"RSS before the import {before:.0f} MB; during it (MB at % done): "
          + ", ".join(f"{p}%: {m:.0f}" for p, m in samples))  # fmt: skip
    print(f"peak RSS {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
