"""Build bench/data/bot_labels.csv.gz, the labelled user agents bench/bots.py measures on.

Run by scripts/fetch_bot_lists.sh, which fetches the pinned sources into a temporary
directory; see bench/data/README.md for what each source is and its licence.

Columns: ua, label, source, split.
- label: "bot" / "automation" (must be caught), "human" (a person's web browser, must pass),
  "app" (isbot lists it as not-a-bot, but it is a native app's HTTP client, a media
  player or an injection probe, not a web page view; reported, not counted).
- split: "in-sample" for the instances of crawler-user-agents, whose patterns the filter
  uses; "dev" rows may be read while writing rules; "held-out" rows are measured only.
  The dev / held-out split is a hash of the agent, so it is stable across rebuilds.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import re
import sys
from pathlib import Path

import yaml

OUT = Path(__file__).parent / "data" / "bot_labels.csv.gz"
CURATED = Path(__file__).parent / "data" / "bot_labels_curated.csv"

# What a person's web browser sends: every agent of isbot's browsers.yml that does not
# start like one of these is a native app, a media player, a mail client or a probe.
_WEB_BROWSER = re.compile(
    r"Mozilla/|Opera/|Lynx/|Links \(|ELinks/|w3m/|IBrowse/|AmigaVoyager/|Amiga-AWeb/"
    r"|NCSA_Mosaic/|UCWEB/|BlackBerry\d|Nokia\w*/|SonyEricsson|MOT-|mot-|SAMSUNG-"
)


# Agents whose label in their list is wrong for a web analytics tool, with the reason.
RELABEL: dict[str, tuple[str, str]] = {
    "Mozilla/5.0 (compatible; Yahoo! Slurp)": ("bot", "Yahoo's search crawler"),
    "Mozilla/5.0 (compatible; Lucidworks-Anda/2.0/0.10; +; )": ("bot", "a site crawler"),
    "Mozilla/5.0 (Laravel Reaver .env Presence)": ("bot", "a scanner for exposed .env files"),
    "Mozilla/4.0 (compatible; ms-office; MSOffice 16)": (
        "app",
        "Office checking a link before it opens the browser",
    ),
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Amzn-User/0.1) "
    "Chrome/119.0.6045.214 Safari/537.36": ("app", "Amazon's agent fetching for a user"),
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko; Google Web "
    "Preview) Chrome/27.0 .1453 Safari/537.36.": ("bot", "Google's page preview renderer"),
}

# In uap-core's browser families, the apps' own HTTP clients (not their in-app browsers,
# which send "Mozilla/5.0 ... [FBAN/...]" or "... Instagram 357.0"): Facebook's and
# Instagram's API clients, Safari's background fetches (CFNetwork), Android's Dalvik.
_APP_CLIENT = re.compile(r"\[FBAN/|Instagram \d|Safari/[\d.]+ CFNetwork/|Dalvik/|Android: Client/")


# uap-core's parser test cases whose browser family is a web browser or an in-app browser
# (the file also tests bots, apps, mail clients and libraries, which are left out).
UAP_BROWSER_FAMILIES = frozenset(
    {
        "Amazon Silk", "Aloha Browser", "Android", "Avast Secure Browser", "Baidu Browser",
        "Brave", "Chrome", "Chrome Mobile", "Chrome Mobile WebView", "Chrome Mobile iOS",
        "Chromium", "Dolphin", "DuckDuckGo Mobile", "Ecosia", "Edge", "Edge Mobile",
        "Epiphany", "Facebook", "Firefox", "Firefox Focus", "Firefox Mobile", "Firefox iOS",
        "Honor Browser", "IE", "IE Mobile", "Iceweasel", "Instagram", "Konqueror", "Maxthon",
        "Mobile Safari", "Mobile Safari UI/WKWebView", "Opera", "Opera Mini", "Opera Mobile",
        "Pale Moon", "Puffin", "QQ Browser", "QQ Browser Mobile", "Safari", "Samsung Internet",
        "SeaMonkey", "Seznam prohlížeč", "Silk", "Sogou Explorer", "UC Browser", "Vivaldi",
        "Waterfox", "WeChat Browser", "Whale", "Yandex Browser",
    }
)  # fmt: skip


def split_of(ua: str) -> str:
    """ "dev" or "held-out", half and half by a hash of the agent."""
    return "held-out" if hashlib.sha256(ua.encode()).digest()[0] & 1 else "dev"


def rows(args: argparse.Namespace) -> list[tuple[str, str, str, str]]:
    out: list[tuple[str, str, str, str]] = []
    crawler_list = json.loads(Path(args.crawler_user_agents).read_text("utf-8"))
    for entry in crawler_list:
        for ua in entry.get("instances", []):
            out.append((ua, "bot", "crawler-user-agents", "in-sample"))
    isbot = Path(args.isbot) / "fixtures"
    crawlers = yaml.safe_load((isbot / "crawlers.yml").read_text("utf-8"))
    for uas in crawlers.values():
        out.extend((ua, "bot", "isbot-crawlers", split_of(ua)) for ua in uas)
    for ua in json.loads(Path(args.top_crawler_agents).read_text("utf-8")):
        out.append((ua.strip("'"), "bot", "top-crawler-agents", split_of(ua.strip("'"))))
    browsers = yaml.safe_load((isbot / "browsers.yml").read_text("utf-8"))
    for uas in browsers.values():
        for ua in uas:
            label = "human" if _WEB_BROWSER.match(ua) else "app"
            out.append((ua, label, "isbot-browsers", split_of(ua)))
    for entry in json.loads(Path(args.user_agents).read_text("utf-8")):
        ua = entry["userAgent"]
        out.append((ua, "human", "user-agents", split_of(ua)))
    # Added after the rules were written and never read: all of it is held out.
    uap = Path(args.uap_core)
    cases = yaml.safe_load((uap / "tests" / "test_ua.yaml").read_text("utf-8"))["test_cases"]
    for case in cases:
        if case["family"] in UAP_BROWSER_FAMILIES:
            ua = case["user_agent_string"]
            label = "app" if _APP_CLIENT.match(ua) else "human"
            out.append((ua, label, "uap-core", "held-out"))
    firefox = uap / "test_resources" / "firefox_user_agent_strings.yaml"
    for case in yaml.safe_load(firefox.read_text("utf-8"))["test_cases"]:
        out.append((case["user_agent_string"], "human", "uap-core", "held-out"))
    with CURATED.open(newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            out.append((row["ua"], row["label"], "jetrack", "dev"))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--crawler-user-agents", required=True, help="crawler-user-agents.json")
    parser.add_argument("--isbot", required=True, help="a checkout of isbot's repository")
    parser.add_argument("--top-crawler-agents", required=True, help="its index.json")
    parser.add_argument("--user-agents", required=True, help="user-agents' user-agents.json")
    parser.add_argument("--uap-core", required=True, help="a checkout of uap-core's repository")
    args = parser.parse_args()
    labels: dict[str, set[str]] = {}
    unique: dict[str, tuple[str, str, str, str]] = {}
    for row in rows(args):
        ua = row[0].strip()
        if not ua:
            continue
        if ua in RELABEL:
            row = (ua, RELABEL[ua][0], *row[2:])
        labels.setdefault(ua, set()).add(row[1])
        unique.setdefault(ua, (ua, *row[1:]))
    # An agent one list calls a bot and another a browser is left out, and shown.
    conflicts = sorted(ua for ua, kinds in labels.items() if "human" in kinds and len(kinds) > 1)
    for ua in conflicts:
        print(f"left out, labelled both ways: {ua}", file=sys.stderr)
    kept = [row for ua, row in unique.items() if ua not in conflicts]
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["ua", "label", "source", "split"])
    writer.writerows(sorted(kept, key=lambda row: (row[2], row[0])))
    # mtime=0: the same sources give the same bytes.
    OUT.write_bytes(gzip.compress(text.getvalue().encode("utf-8"), mtime=0))
    print(f"{OUT}: {len(kept)} agents")
    return 0


if __name__ == "__main__":
    sys.exit(main())
