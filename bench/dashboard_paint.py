"""Dashboard paint benchmark: the 2M-event site of `bench/query.py --keep DIR`, a real
`jetrack serve` on it, and Chromium timing from navigation start to the first paint and to
the top stats showing numbers (the first meaningful paint), over repeated loads; with the
server process's CPU time per load (all its threads, chDB's included: steadier than the
paint times when other work shares the cores).

    .venv/bin/python bench/query.py --keep /tmp/jb10m     # once: builds the data
    .venv/bin/python bench/dashboard_paint.py --data /tmp/jb10m [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, make_settings, start_server  # noqa: E402

from jetrack.store.stores import open_stores  # noqa: E402

BENCH_KEY = "5e" * 32  # the key bench/query.py --keep uses
DOMAIN = "big.example"  # site id 1 in the generated data
# The generated data's 30 days (bench/query.py END): the default period (the last 30 days
# from today) would be empty.
PERIOD = "period=custom&from=2024-05-02&to=2024-05-31"
EMAIL, PASSWORD = "paint@bench.example", "bench password 123"
STATS_READY = """() => {
  const stats = document.querySelector('[data-testid=top-stats]')
  return stats && !stats.classList.contains('jd-loading') && /[0-9]/.test(stats.innerText)
}"""


def prepare(data_dir: Path) -> None:
    from jetrack.accounts.users import create_user, find_user
    from jetrack.sites.sites import add_site, find_site

    stores = open_stores(make_settings(data_dir, encryption_key=BENCH_KEY))
    try:
        with stores.control.session() as session:
            user = find_user(session, EMAIL) or create_user(session, EMAIL, password=PASSWORD)
            user.email_verified_at = user.email_verified_at or user.created_at
            site = find_site(session, DOMAIN) or add_site(session, user, DOMAIN)
            assert site.id == 1, (
                "the big site of the generated data has id 1: use a fresh --keep dir"
            )
    finally:
        stores.close()


def logged_in_page(browser: Any, url: str, email: str, password: str) -> Any:
    """A 1280x900 page of `browser` logged in to the server at `url`."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(url + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def measure(url: str, runs: int, server_pid: int) -> dict[str, object]:
    import psutil
    from playwright.sync_api import sync_playwright

    server = psutil.Process(server_pid)

    def server_cpu() -> float:
        times = server.cpu_times()
        return float(times.user + times.system)

    paints, meaningful, cpu = [], [], []
    asked: list[str] = []  # the server's API paths the page asked for, per load
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = logged_in_page(browser, url, EMAIL, PASSWORD)
        page.on("request", lambda r: asked.append(r.url.split("?")[0][len(url) :]))
        for _ in range(runs + 1):  # the first load warms caches and is not counted
            asked.clear()
            cpu_before = server_cpu()
            page.goto(url + f"/sites/{DOMAIN}?{PERIOD}")
            page.wait_for_function(STATS_READY, timeout=60_000)
            shown = page.evaluate("performance.now()")
            paint = page.evaluate(
                "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null"
            )
            paints.append(paint)
            meaningful.append(shown)
            page.wait_for_load_state("networkidle")  # every panel's query answered
            cpu.append((server_cpu() - cpu_before) * 1000)
        browser.close()
    api = [path for path in asked if path.startswith("/api/")]
    paints, meaningful, cpu = paints[1:], meaningful[1:], cpu[1:]
    return {
        "runs": runs,
        "first_contentful_paint_ms_median": round(statistics.median(p for p in paints if p)),
        "top_stats_shown_ms_median": round(statistics.median(meaningful)),
        "top_stats_shown_ms_all": [round(m) for m in meaningful],
        "server_cpu_ms_per_load_median": round(statistics.median(cpu)),
        "server_cpu_ms_per_load_all": [round(c) for c in cpu],
        "api_requests_of_the_last_load": {path: api.count(path) for path in sorted(set(api))},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, required=True, help="a data dir of bench/query.py --keep"
    )
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    prepare(args.data)
    server = start_server(
        args.data, {"JETRACK_ENCRYPTION_KEY": BENCH_KEY, "JETRACK_LOG_LEVEL": "warning"}
    )
    try:
        print(json.dumps(measure(server.url, args.runs, server.process.pid), indent=2))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
