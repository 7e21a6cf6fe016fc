"""Seed a demo site with realistic-looking traffic, so a newcomer sees a full dashboard."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from jetrack.accounts.users import create_user, find_user
from jetrack.enrich.geonames import city_index
from jetrack.privacy.event_tables import present_tables
from jetrack.sites.funnels import FunnelError, create_funnel, list_funnels
from jetrack.sites.goals import GoalError, find_or_create_goal, goal_spec, list_goals
from jetrack.sites.sites import add_site, find_site
from jetrack.store import schema
from jetrack.store.events import table_to_change
from jetrack.store.ids import SEQUENCE_BITS
from jetrack.store.models import Site
from jetrack.store.sessions import rebuild_sessions
from jetrack.store.stores import Stores

DEMO_DOMAIN = "demo.jetrack.local"
DEMO_OWNER = "demo@jetrack.local"

# (weight, source, channel, referrer, utm_medium, utm_source, utm_campaign, utm_content, utm_term)
TRAFFIC: list[tuple[float, str, str, str, str, str, str, str, str]] = [
    (30, "", "Direct", "", "", "", "", "", ""),
    (24, "Google", "Organic Search", "https://www.google.com/", "", "", "", "", ""),
    (4, "Bing", "Organic Search", "https://www.bing.com/", "", "", "", "", ""),
    (3, "DuckDuckGo", "Organic Search", "https://duckduckgo.com/", "", "", "", "", ""),
    (1, "Ecosia", "Organic Search", "https://www.ecosia.org/", "", "", "", "", ""),
    (6, "Hacker News", "Organic Social", "https://news.ycombinator.com/", "", "", "", "", ""),
    (4, "Reddit", "Organic Social", "https://www.reddit.com/r/selfhosted/", "", "", "", "", ""),
    (2, "Reddit", "Organic Social", "https://www.reddit.com/r/webdev/", "", "", "", "", ""),
    (3, "Twitter", "Organic Social", "https://t.co/", "", "", "", "", ""),
    (2, "LinkedIn", "Organic Social", "https://www.linkedin.com/", "", "", "", "", ""),
    (1.5, "Mastodon", "Organic Social", "https://mastodon.social/", "", "", "", "", ""),
    (3, "GitHub", "Referral", "https://github.com/", "", "", "", "", ""),
    (1.5, "dev.to", "Referral", "https://dev.to/", "", "", "", "", ""),
    (1, "Product Hunt", "Referral", "https://www.producthunt.com/", "", "", "", "", ""),
    (1, "indiehackers.com", "Referral", "https://www.indiehackers.com/", "", "", "", "", ""),
    (1.5, "YouTube", "Organic Video", "https://www.youtube.com/", "", "", "", "", ""),
    (3, "Newsletter", "Email", "", "email", "newsletter", "spring_launch", "header", ""),
    (1.5, "Newsletter", "Email", "", "email", "newsletter", "weekly_digest", "footer", ""),
    (
        3,
        "Google",
        "Paid Search",
        "https://www.google.com/",
        "cpc",
        "google",
        "brand",
        "ad_a",
        "privacy analytics",
    ),
    (
        1.5,
        "Google",
        "Paid Search",
        "https://www.google.com/",
        "cpc",
        "google",
        "competitors",
        "ad_b",
        "google analytics alternative",
    ),
    (
        1.5,
        "Facebook",
        "Paid Social",
        "https://l.facebook.com/",
        "paid_social",
        "facebook",
        "spring_launch",
        "video",
        "",
    ),
    (
        1,
        "Twitter",
        "Paid Social",
        "https://t.co/",
        "paid_social",
        "twitter",
        "spring_launch",
        "thread",
        "",
    ),
    (
        0.7,
        "Bing",
        "Paid Search",
        "https://www.bing.com/",
        "cpc",
        "bing",
        "brand",
        "ad_a",
        "cookieless analytics",
    ),
]

# (weight, country, region, city)
GEO: list[tuple[float, str, str, str]] = [
    (9, "US", "US-CA", "San Francisco"),
    (5, "US", "US-NY", "New York"),
    (3, "US", "US-TX", "Austin"),
    (2.5, "US", "US-WA", "Seattle"),
    (2, "US", "US-IL", "Chicago"),
    (1, "US", "US-FL", "Miami"),
    (5, "DE", "DE-BE", "Berlin"),
    (3, "DE", "DE-BY", "Munich"),
    (1.5, "DE", "DE-HH", "Hamburg"),
    (5, "GB", "GB-ENG", "London"),
    (1, "GB", "GB-SCT", "Edinburgh"),
    (3.5, "FR", "FR-IDF", "Paris"),
    (1, "FR", "FR-ARA", "Lyon"),
    (3, "IN", "IN-KA", "Bengaluru"),
    (2, "IN", "IN-MH", "Mumbai"),
    (1, "IN", "IN-DL", "Delhi"),
    (2, "BR", "BR-SP", "São Paulo"),
    (2, "CA", "CA-ON", "Toronto"),
    (1, "CA", "CA-BC", "Vancouver"),
    (0.8, "CA", "CA-QC", "Montreal"),
    (2.5, "NL", "NL-NH", "Amsterdam"),
    (2, "JP", "JP-13", "Tokyo"),
    (1.5, "AU", "AU-NSW", "Sydney"),
    (1, "AU", "AU-VIC", "Melbourne"),
    (1.5, "ES", "ES-MD", "Madrid"),
    (1, "ES", "ES-CT", "Barcelona"),
    (1.5, "IT", "IT-25", "Milan"),
    (1.2, "SE", "SE-AB", "Stockholm"),
    (1.2, "PL", "PL-14", "Warsaw"),
    (1, "CH", "CH-ZH", "Zurich"),
    (0.4, "CH", "CH-GE", "Geneva"),
    (0.15, "CH", "CH-TI", "Lugano"),
    (0.8, "AT", "AT-9", "Vienna"),
    (0.8, "MX", "MX-CMX", "Mexico City"),
    (0.6, "IE", "IE-D", "Dublin"),
    (0.6, "NG", "NG-LA", "Lagos"),
    (0.6, "ZA", "ZA-GP", "Johannesburg"),
    (0.7, "KR", "KR-11", "Seoul"),
    (0.6, "SG", "SG-01", "Singapore"),
    (0.6, "UA", "UA-30", "Kyiv"),
    (0.5, "CZ", "CZ-10", "Prague"),
    (0.5, "PT", "PT-11", "Lisbon"),
    (0.5, "DK", "DK-84", "Copenhagen"),
    (0.4, "NO", "NO-03", "Oslo"),
    (0.4, "FI", "FI-18", "Helsinki"),
    (0.4, "AR", "AR-C", "Buenos Aires"),
    (0.4, "TR", "TR-34", "Istanbul"),
    (0.4, "ID", "ID-JK", "Jakarta"),
    (0.3, "BE", "BE-BRU", "Brussels"),
    (0.2, "BE", "BE-VLG", "Antwerp"),
    (0.3, "RO", "RO-B", "Bucharest"),
]

# The browser's language (its primary subtag, as ingestion stores it) by country, with
# shares: people browse in English everywhere, in their own languages in multilingual
# countries and diasporas. A region listed here has its own mix.
LANGUAGES: dict[str, list[tuple[float, str]]] = {
    "US": [(85, "en"), (8, "es"), (2, "zh"), (1, "fr"), (1, "de"), (1, "ko"), (1, "vi"), (1, "ru")],
    "US-FL": [(70, "en"), (26, "es"), (2, "pt"), (2, "fr")],
    "DE": [(82, "de"), (14, "en"), (2, "tr"), (1, "ru"), (1, "pl")],
    "GB": [(93, "en"), (2, "pl"), (1, "fr"), (1, "de"), (1, "es"), (1, "it"), (1, "ro")],
    "FR": [(87, "fr"), (9, "en"), (2, "ar"), (1, "es"), (1, "de")],
    "IN": [(80, "en"), (14, "hi"), (2, "ta"), (2, "te"), (1, "mr"), (1, "bn")],
    "BR": [(90, "pt"), (9, "en"), (1, "es")],
    "CA": [(82, "en"), (12, "fr"), (3, "zh"), (1, "pa"), (1, "es"), (1, "tl")],
    "CA-QC": [(68, "fr"), (30, "en"), (2, "es")],
    "NL": [(70, "nl"), (27, "en"), (2, "de"), (1, "tr")],
    "JP": [(91, "ja"), (8, "en"), (1, "zh")],
    "AU": [(91, "en"), (4, "zh"), (2, "vi"), (1, "ko"), (1, "es"), (1, "hi")],
    "ES": [(84, "es"), (12, "en"), (3, "ca"), (1, "fr")],
    "ES-CT": [(52, "es"), (34, "ca"), (13, "en"), (1, "fr")],
    "IT": [(89, "it"), (10, "en"), (1, "de")],
    "SE": [(79, "sv"), (20, "en"), (1, "fi")],
    "PL": [(87, "pl"), (12, "en"), (1, "uk")],
    "CH": [(64, "de"), (22, "en"), (8, "fr"), (4, "it"), (2, "pt")],
    "CH-GE": [(70, "fr"), (22, "en"), (5, "de"), (3, "pt")],
    "CH-TI": [(78, "it"), (12, "de"), (10, "en")],
    "AT": [(87, "de"), (12, "en"), (1, "tr")],
    "MX": [(91, "es"), (9, "en")],
    "IE": [(94, "en"), (3, "pl"), (2, "pt"), (1, "ga")],
    "NG": [(97, "en"), (2, "fr"), (1, "yo")],
    "ZA": [(87, "en"), (9, "af"), (2, "zu"), (2, "pt")],
    "KR": [(90, "ko"), (10, "en")],
    "SG": [(76, "en"), (19, "zh"), (3, "ms"), (2, "ta")],
    "UA": [(64, "uk"), (22, "ru"), (14, "en")],
    "CZ": [(86, "cs"), (13, "en"), (1, "sk")],
    "PT": [(85, "pt"), (14, "en"), (1, "es")],
    "DK": [(80, "da"), (20, "en")],
    "NO": [(74, "nb"), (22, "en"), (2, "nn"), (2, "no")],
    "FI": [(81, "fi"), (15, "en"), (4, "sv")],
    "AR": [(92, "es"), (8, "en")],
    "TR": [(89, "tr"), (11, "en")],
    "ID": [(83, "id"), (17, "en")],
    "BE": [(55, "fr"), (24, "nl"), (19, "en"), (2, "de")],
    "BE-VLG": [(82, "nl"), (14, "en"), (4, "fr")],
    "RO": [(85, "ro"), (14, "en"), (1, "hu")],
}


def languages_of(country: str, region: str) -> list[tuple[float, str]]:
    """The language mix of a place: its region's own, else its country's."""
    return LANGUAGES.get(region) or LANGUAGES[country]


# (weight, device, screen_size, os, os_version, browser, browser_version)
TECH: list[tuple[float, str, str, str, str, str, str]] = [
    (18, "Desktop", "1920x1080", "Windows", "11", "Chrome", "131.0"),
    (7, "Desktop", "1920x1080", "Windows", "10", "Chrome", "130.0"),
    (5, "Desktop", "1536x864", "Windows", "11", "Edge", "131.0"),
    (4, "Desktop", "1920x1080", "Windows", "11", "Firefox", "133.0"),
    (9, "Desktop", "1440x900", "Mac", "14.6", "Safari", "18.1"),
    (8, "Desktop", "1512x982", "Mac", "15.1", "Chrome", "131.0"),
    (3, "Desktop", "1728x1117", "Mac", "15.1", "Firefox", "133.0"),
    (1, "Desktop", "2560x1440", "Mac", "15.1", "Arc", "1.69"),
    (4, "Desktop", "1920x1080", "GNU/Linux", "", "Firefox", "133.0"),
    (2.5, "Desktop", "2560x1440", "GNU/Linux", "", "Chrome", "131.0"),
    (12, "Mobile", "390x844", "iOS", "18.1", "Safari", "18.1"),
    (4, "Mobile", "393x852", "iOS", "17.6", "Safari", "17.6"),
    (1.5, "Mobile", "390x844", "iOS", "18.1", "Chrome", "131.0"),
    (9, "Mobile", "412x915", "Android", "14", "Chrome", "131.0"),
    (3, "Mobile", "360x800", "Android", "13", "Samsung Internet", "26.0"),
    (1, "Mobile", "412x915", "Android", "14", "Firefox", "133.0"),
    (2, "Tablet", "820x1180", "iPadOS", "18.1", "Safari", "18.1"),
    (1, "Tablet", "800x1280", "Android", "13", "Chrome", "131.0"),
]

# (weight as a landing page, weight as a later page, path)
PAGES: list[tuple[float, float, str]] = [
    (35, 10, "/"),
    (10, 14, "/pricing"),
    (8, 10, "/features"),
    (3, 8, "/docs"),
    (2, 7, "/docs/getting-started"),
    (1, 5, "/docs/tracker"),
    (1, 4, "/docs/api"),
    (1, 3, "/docs/self-hosting"),
    (7, 3, "/blog"),
    (6, 2, "/blog/cookieless-analytics"),
    (5, 2, "/blog/why-we-left-google-analytics"),
    (3, 1, "/blog/clickhouse-in-process"),
    (2, 1, "/blog/privacy-by-design"),
    (3, 4, "/compare/google-analytics"),
    (1, 2, "/about"),
    (0.5, 2, "/contact"),
    (0.5, 5, "/signup"),
    (0.3, 4, "/login"),
    (0.5, 1, "/changelog"),
    (0.3, 0.5, "/careers"),
]

HOURLY = [
    2,
    1.5,
    1.2,
    1,
    1,
    1.3,
    2,
    3.5,
    5,
    6,
    6.5,
    6.5,
    6,
    6.5,
    6.5,
    6,
    5.5,
    5,
    4.5,
    4.5,
    4,
    3.5,
    3,
    2.5,
]
WEEKDAY = [1.0, 1.05, 1.05, 1.0, 0.9, 0.6, 0.62]  # Monday first

# The demo's goals (goal_spec arguments): each counts events the insert below writes.
GOALS: list[dict[str, Any]] = [
    {"goal_type": "event", "event_name": "Signup"},
    {"goal_type": "event", "event_name": "Signup", "custom_props": {"plan": "pro"}},
    {"goal_type": "event", "event_name": "Purchase", "currency": "EUR"},  # a revenue goal
    {"goal_type": "page", "page_path": "/pricing"},
    {"goal_type": "event", "event_name": "Outbound Link: Click"},
    {"goal_type": "event", "event_name": "File Download"},
    {"goal_type": "event", "event_name": "Form: Submission"},
    {"goal_type": "event", "event_name": "404"},
]
# Purchases: (plan, monthly price in EUR); a yearly plan costs ten months.
PLANS = [("starter", 9), ("pro", 19), ("business", 49)]
# Links from elsewhere to pages that are gone: visits that land there send a 404 event.
MISSING_PAGES = [
    "/blog/launch-week-2023",
    "/docs/v1/install",
    "/pricing-2024",
    "/blog/cookieless-analytics/amp",
]
DOWNLOADS = [
    "https://demo.jetrack.local/downloads/jetrack-whitepaper.pdf",
    "https://demo.jetrack.local/downloads/jetrack-1.4.0.tar.gz",
    "https://demo.jetrack.local/downloads/dpa-template.docx",
]

# The SELECT below gives the events columns in this order (jetrack.store.schema).
EVENT_COLUMNS = ", ".join(schema.EVENT_COLUMNS)


def _u(key: int) -> str:
    """A uniform number in [0, 1) drawn from the session number and a key (repeatable)."""
    return f"(cityHash64({{seed:UInt64}}, s, {key}) / 18446744073709551616.0)"


def _uk(key: int) -> str:
    """Like _u, but different for each event `k` of the session."""
    return f"(cityHash64({{seed:UInt64}}, s, k, {key}) / 18446744073709551616.0)"


def _cumulative(weights: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return [c / total for c in out]


def _literal(values: Sequence[str | float | int]) -> str:
    """A ClickHouse array literal of our own constants (never user input: those are bound)."""
    items = []
    for value in values:
        if isinstance(value, str):
            items.append("'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'")
        else:
            items.append(repr(value))
    return "[" + ",".join(items) + "]"


def _arrays(plan: _Plan, geo_dir: Path) -> dict[str, str]:
    """The weighted tables above as array literals, by name (the city ids from the index
    cached beside the city databases in `geo_dir`, when there is one)."""
    arrays: dict[str, Sequence[str | float | int]] = {
        "day_ends": plan.day_ends,
        "traffic_cum": _cumulative([row[0] for row in TRAFFIC]),
        "geo_cum": _cumulative([row[0] for row in GEO]),
        "tech_cum": _cumulative([row[0] for row in TECH]),
        "entry_cum": _cumulative([row[0] for row in PAGES]),
        "page_cum": _cumulative([row[1] for row in PAGES]),
        "hour_cum": _cumulative(HOURLY),
        "page_paths": [row[2] for row in PAGES],
    }
    traffic_names = ["source", "channel", "referrer", "medium", "usource", "campaign", "content"]
    for i, name in enumerate([*traffic_names, "term"], start=1):
        arrays[f"t_{name}"] = [row[i] for row in TRAFFIC]
    for i, name in enumerate(["country", "region", "city"], start=1):
        arrays[f"g_{name}"] = [row[i] for row in GEO]
    cities = city_index(geo_dir if geo_dir.is_dir() else None)
    arrays["g_geoname"] = [cities.named(row[1], row[3]) for row in GEO]
    tech_names = ["device", "screen", "os", "os_version", "browser", "browser_version"]
    for i, name in enumerate(tech_names, start=1):
        arrays[f"d_{name}"] = [row[i] for row in TECH]
    literals = {name: _literal(values) for name, values in arrays.items()}
    # Each place's language mix, as arrays of arrays indexed like GEO.
    mixes = [languages_of(row[1], row[2]) for row in GEO]
    literals["lang_cum"] = (
        "[" + ",".join(_literal(_cumulative([w for w, _ in m])) for m in mixes) + "]"
    )
    literals["lang_tags"] = "[" + ",".join(_literal([tag for _, tag in m]) for m in mixes) + "]"
    return literals


def _pick(cumulative: str, uniform: str) -> str:
    """1-based index of a weighted choice: the first cumulative weight above `uniform`."""
    return f"greatest(1, arrayFirstIndex(c -> c > {uniform}, {cumulative}))"


@dataclass(frozen=True)
class _Plan:
    sessions: int
    day_ends: list[int]  # cumulative session counts per day, oldest first


def _plan(days: int, visitors_per_day: int, seed: int, now: int) -> _Plan:
    rng = random.Random(seed)
    weekday_today = time.gmtime(now).tm_wday
    counts = []
    for i in range(days):
        ago = days - 1 - i
        growth = 0.65 + 0.35 * i / max(days - 1, 1)
        weekday = WEEKDAY[(weekday_today - ago) % 7]
        spike = 2.2 if ago in (17, 18) else 1.0  # a launch day, visible on the graph
        visits = visitors_per_day * 1.25 * growth * weekday * spike * rng.uniform(0.88, 1.12)
        if ago == 0:  # today has only had part of its hours so far
            visits *= (now % 86400) / 86400
        counts.append(max(1, round(visits)))
    # A last bucket of visits in the past 30 minutes, so the realtime view is never empty.
    counts.append(max(6, round(visitors_per_day / 40)))
    ends, total = [], 0
    for count in counts:
        total += count
        ends.append(total)
    return _Plan(total, ends)


def _insert_sql(arr: dict[str, str]) -> str:
    traffic = _pick(arr["traffic_cum"], _u(1))
    geo = _pick(arr["geo_cum"], _u(2))
    tech = _pick(arr["tech_cum"], _u(3))
    entry = _pick(arr["entry_cum"], _u(4))
    language = f"{arr['lang_tags']}[g][{_pick(arr['lang_cum'] + '[g]', _u(14))}]"
    later = _pick(arr["page_cum"], _uk(5))
    hour = f"({_pick(arr['hour_cum'], _u(6))} - 1)"
    # Session number -> day -> start time; today's sessions stay in the past.
    sessions = f"""
        SELECT number AS s,
          arrayFirstIndex(e -> e > number, {arr["day_ends"]}) - 1 AS day,
          {{first_day:UInt32}} + day * 86400 AS day_start,
          -- the live bucket: its first 3 visits in the last 3 minutes, the rest in the last 30
          multiIf(day = {{days:UInt32}} AND number - {arr["day_ends"]}[{{days:UInt32}}] < 3,
             {{now:UInt32}} - 30 - toUInt32(number - {arr["day_ends"]}[{{days:UInt32}}]) * 60,
             day = {{days:UInt32}}, {{now:UInt32}} - 60 - toUInt32({_u(7)} * 1740),
             day = {{days:UInt32}} - 1,
             day_start + toUInt32({_u(7)} * greatest(0, toInt64({{now:UInt32}}) - day_start - 1800)),
             day_start + {hour} * 3600 + toUInt32({_u(8)} * 3600)) AS start,
          {traffic} AS t, {geo} AS g, {tech} AS d, {entry} AS entry_ix, {language} AS language,
          -- 45% bounce; longer visits get rarer
          if({_u(9)} < 0.45, 1, least(12, 2 + toUInt32(-log(1 - {_u(10)}) * 2.2))) AS pages,
          -- custom event: 0 none, 1 Signup, 2 Purchase, 3 Outbound Link: Click,
          -- 4 File Download, 5 404 (the visit landed on a missing page), 6 Form: Submission
          multiIf({_u(11)} < 0.04, 1, {_u(11)} < 0.055, 2, {_u(11)} < 0.10, 3,
                  {_u(11)} < 0.125, 4, {_u(11)} < 0.137, 5, {_u(11)} < 0.152, 6, 0) AS custom,
          -- a purchase's plan (1-3, PLANS) and whether it is paid yearly
          1 + ({_u(23)} > 0.35) + ({_u(23)} > 0.8) AS plan_ix, {_u(27)} < 0.3 AS yearly,
          -- about a third of visits come back the same day from a pool of returning
          -- visitors; ids are 32-bit and daily, as ingestion makes them
          if({_u(12)} < 0.35,
             cityHash64({{seed:UInt64}}, 'returning', day,
                        toUInt64({_u(13)} * {{sessions:UInt64}} / (8 * ({{days:UInt32}} + 1)))),
             cityHash64({{seed:UInt64}}, 'new', s)) % 4294967296 AS visitor_id,
          -- the visit's start second above a sequence (jetrack.store.ids.session_id_at)
          bitOr(bitShiftLeft(toUInt64(start), {SEQUENCE_BITS}), s % {1 << SEQUENCE_BITS})
            AS session_id
        FROM numbers({{sessions:UInt64}})"""
    # Each page k gives a pageview (2k) and an engagement (2k+1); a custom event comes last.
    return f"""
    INSERT INTO events ({EVENT_COLUMNS})
    SELECT
      {{site_id:UInt32}}, toDateTime(least({{now:UInt32}}, start + k * 95
        + if(k = 0, 0, toUInt32({_uk(20)} * 80))
        + if(kind = 1, 5 + toUInt32(engaged / 1000), 0) + if(kind = 2, 30, 0)), 'UTC'),
      multiIf(kind = 0, 'pageview', kind = 1, 'engagement',
        custom = 1, 'Signup', custom = 2, 'Purchase', custom = 3, 'Outbound Link: Click',
        custom = 4, 'File Download', custom = 5, '404', 'Form: Submission'),
      visitor_id, session_id, {{hostname:String}},
      multiIf(kind = 2 AND custom = 1, '/signup', kind = 2 AND custom = 2, '/pricing',
        kind = 2 AND custom = 6, '/contact', k = 0 OR (kind = 2 AND custom = 5), entry_path,
        {arr["page_paths"]}[{later}]),
      {arr["t_referrer"]}[t], {arr["t_source"]}[t],
      {arr["t_channel"]}[t], {arr["t_medium"]}[t],
      {arr["t_usource"]}[t], {arr["t_campaign"]}[t],
      {arr["t_content"]}[t], {arr["t_term"]}[t],
      if({arr["t_medium"]}[t] = 'cpc', 'gclid', ''),
      entry_path, {arr["g_country"]}[g], {arr["g_region"]}[g],
      {arr["g_city"]}[g], {arr["g_geoname"]}[g], {arr["d_device"]}[d], {arr["d_screen"]}[d],
      {arr["d_browser"]}[d], {arr["d_browser_version"]}[d],
      {arr["d_os"]}[d], {arr["d_os_version"]}[d], language,
      multiIf(kind != 2 OR custom = 6, map(),
        custom = 1, map('plan', if({_u(21)} < 0.8, 'free', 'pro')),
        custom = 2, map('plan', {_literal([p for p, _ in PLANS])}[plan_ix],
                        'billing', if(yearly, 'yearly', 'monthly')),
        custom = 3,
        map('url', ['https://github.com/jetrack', 'https://twitter.com/jetrack'][1 + toUInt8({_u(22)} * 2)]),
        custom = 4, map('url', {_literal(DOWNLOADS)}[1 + toUInt8({_u(22)} * {len(DOWNLOADS)})]),
        map('path', entry_path)),
      toDecimal64(if(kind = 2 AND custom = 2,
        {_literal([price for _, price in PLANS])}[plan_ix] * if(yearly, 10, 1), 0), 3),
      if(kind = 2 AND custom = 2, 'EUR', ''),
      if(kind = 1, 0, 1),
      if(kind = 1, toUInt8(least(100, 20 + {_uk(24)} * 85)), 0),
      if(kind = 1, engaged, 0),
      0  -- import_id: live-like traffic, no import
    FROM (
      SELECT *, intDiv(j, 2) AS k, if(j >= pages * 2, 2, j % 2) AS kind,
        toUInt32(3000 + {_uk(25)} * if(pages = 1, 40000, 120000)) AS engaged
      FROM (
        SELECT *, if(custom = 5,
            {_literal(MISSING_PAGES)}[1 + toUInt8({_u(26)} * {len(MISSING_PAGES)})],
            {arr["page_paths"]}[entry_ix]) AS entry_path
        FROM ({sessions})
      )
      ARRAY JOIN range(toUInt32(pages * 2 + (custom > 0))) AS j
    )
    """


def _params(site: Site, plan: _Plan, days: int, seed: int, now: int) -> dict[str, Any]:
    return {
        "seed": seed,
        "site_id": site.id,
        "hostname": site.domain,
        "sessions": plan.sessions,
        "first_day": (now // 86400 - (days - 1)) * 86400,
        "days": days,
        "now": now,
    }


def seed_demo(
    stores: Stores,
    domain: str = DEMO_DOMAIN,
    owner_email: str = DEMO_OWNER,
    days: int = 90,
    visitors_per_day: int = 500,
    *,
    password: str | None = None,
    timezone: str = "UTC",
    seed: int = 7,
    now: int | None = None,
) -> Site:
    """Create (or refill) the demo site: ~`visitors_per_day` a day over `days` days, ending
    now. An existing site with this domain keeps its settings and gets its events replaced."""
    if days < 1 or visitors_per_day < 1:
        raise ValueError("days and visitors_per_day must be at least 1")
    with stores.control.session() as session:
        owner = find_user(session, owner_email) or create_user(
            session, owner_email, name="Demo", password=password, admin=False
        )
        site = find_site(session, domain) or add_site(
            session, owner, domain, timezone=timezone, name="Jetrack demo"
        )
        _add_goals(session, site)
        _add_funnels(session, site)
    # Every event table, rollups too: the hourly job rolls the new days up again.
    for table in present_tables(stores.events):
        stores.events.command(
            f"DELETE FROM {table_to_change(stores.events, table)} WHERE site_id = {{site_id:UInt32}}",
            {"site_id": site.id},
        )
    now = int(time.time()) if now is None else now
    plan = _plan(days, visitors_per_day, seed, now)
    stores.events.command(
        _insert_sql(_arrays(plan, stores.settings.geo_dir)), _params(site, plan, days, seed, now)
    )
    rebuild_sessions(stores.events, site_id=site.id)
    return site


def _add_goals(session: Session, site: Site) -> None:
    for spec in GOALS:
        try:
            find_or_create_goal(session, site, goal_spec(**spec))
        except GoalError:  # a refilled site whose owner renamed things: keep theirs
            continue


# The demo's funnels: (name, display names of the goals of its steps). A visit's one custom
# event comes after its pages, so /pricing then Signup is the path the data can show.
FUNNELS: list[tuple[str, list[str]]] = [("Pricing to signup", ["Visit /pricing", "Signup"])]


def _add_funnels(session: Session, site: Site) -> None:
    goals = {goal.display_name: goal.id for goal in list_goals(session, site)}
    for name, steps in FUNNELS:
        if name in {f.name for f in list_funnels(session, site)}:
            continue
        try:
            create_funnel(session, site, name, [goals.get(step, 0) for step in steps])
        except FunnelError:  # an owner deleted or renamed a goal it needs: keep theirs
            continue


def expected_sessions(days: int, visitors_per_day: int, now: int, seed: int = 7) -> int:
    """How many visits seed_demo writes for these arguments (for tests and the CLI)."""
    return _plan(days, visitors_per_day, seed, now).sessions


__all__ = ["DEMO_DOMAIN", "DEMO_OWNER", "expected_sessions", "seed_demo"]
