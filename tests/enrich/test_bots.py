"""bot_reason: crawlers, HTTP clients, automated browsers and referrer spam are told apart."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import pytest

from jetrack.enrich.bots import _pattern_set, bot_reason, is_referrer_spam, user_agent_reason

HUMANS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.39 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Linux; U; Android 4.0.3; en-us; KFTT Build/IML74K) AppleWebKit/537.36 (KHTML, like Gecko) Silk/3.68 like Chrome/39.0.2171.93 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/450.0.0.38.108;]",
    "Mozilla/5.0 (Linux; Android 14; 23049PCD8G Build/UKQ1.230804.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.39 Mobile Safari/537.36 Instagram 357.0.0.25.101",
    "Opera/9.80 (Windows NT 6.1; U; en) Presto/2.10.289 Version/12.02",
    # In-app browsers whose names a crawler pattern or rule could take for a tool.
    "Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.123 Mobile Safari/537.36 CamScanner/4.8.5.2310271827",
    "Mozilla/5.0 (Windows NT 10.0.18362; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Slack/4.4.2 Chrome/78.0.3904.130 Electron/7.2.1 Safari/537.36 WindowsStore/10.0.18362 Sonic Slack_SSB/4.4.2",
    "Mozilla/5.0 (Linux; Android 7.1.2; G011A Build/N2G48H; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/66.0.3359.158 Safari/537.36 Viber/11.9.5.8",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/150.0.0.0 Mobile Safari/537.36 (Ecosia android@150.0.0.0)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/376.0.783915146 Mobile/15E148 Safari/604.1",
    # Old and rare browsers: Internet Explorer, Konqueror, text and feature-phone browsers.
    "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)",
    "Mozilla/5.0 (compatible; MSIE 10.0; Windows Phone 8.0; Trident/6.0; IEMobile/10.0; ARM; Touch; NOKIA; Lumia 920)",
    "Mozilla/5.0 (compatible; Konqueror/4.5; Linux) KHTML/4.5.4 (like Gecko)",
    "Lynx/2.9.0dev.6 libwww-FM/2.14 SSL-MM/1.4.1 OpenSSL/1.1.1j-dev",
    "Mozilla/5.0 (X11; U; Linux i686; en-US) U2/1.0.0 UCBrowser/9.3.1.344",
    "MQQBrowser/39 Mozilla/5.0 (iPhone 4S; CPU iPhone OS 6_0_1 like Mac OS X) AppleWebKit/536.26 (KHTML, like Gecko) Mobile/10A523 Safari/7534.48.3",
    "HTC MAX 4G Opera/9.5 (Microsoft Windows; PPC; Opera Mobi/1409; U; ru)",
    "Opera/9.80 (MAUI Runtime; Opera Mini/4.4.39008/37.9178; U; en) Presto/2.12.423 Version/12.16",
    # As some logs write it, spaces as "+".
    "Mozilla/5.0+(iPhone;+CPU+iPhone+OS+9_3_1+like+Mac+OS+X)+AppleWebKit/601.1.46+(KHTML,+like+Gecko)+Version/9.0+Mobile/13E238+Safari/601.1",
]

BOTS = [
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot_ua"),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "bot_ua"),
    ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", "bot_ua"),
    ("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", "bot_ua"),
    (
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
        "bot_ua",
    ),
    ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "bot_ua"),
    ("Twitterbot/1.0", "bot_ua"),
    ("curl/8.5.0", "bot_ua"),
    ("Wget/1.21.4", "bot_ua"),
    ("python-requests/2.32.3", "bot_ua"),
    ("Go-http-client/2.0", "bot_ua"),
    ("PostmanRuntime/7.42.0", "bot_ua"),
    ("okhttp/4.12.0", "bot_ua"),
    ("Java/17.0.2", "bot_ua"),
    ("axios/1.7.7", "bot_ua"),
    ("Some custom monitoring agent v1.0 with a long name", "bot_ua"),
    ("", "bot_ua"),
    ("Mozilla/5.0", "bot_ua"),
    ("   ", "bot_ua"),
    # The long tail of issue 19: a bare "compatible", generic "compatible; Name/1.0; +URL",
    # monitors, security scanners, Google's special agents, AI assistants, feed readers.
    ("Mozilla/5.0 (compatible)", "bot_ua"),
    ("Mozilla/5.0 (compatible; Acmefetch/1.0; +https://acme.example/about-our-agent)", "bot_ua"),
    ("Mozilla/5.0 (compatible; Acme/2.3)", "bot_ua"),
    ("Mozilla/5.0 (Acme/1.0)", "bot_ua"),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko; compatible; Acme) Chrome/109.0.5414.101 Safari/537.36",
        "bot_ua",
    ),
    ("Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", "bot_ua"),
    ("Mozilla/5.0+(compatible; UptimeRobot/2.0)", "bot_ua"),
    (
        "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/55.0.2883.87 Safari/537.36 SiteMonitor",
        "bot_ua",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 acme_scanner",
        "bot_ua",
    ),
    ("Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000003)", "bot_ua"),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Nuclei",
        "bot_ua",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120 Safari/537.36'+(select 1)+'",
        "bot_ua",
    ),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 ${jndi:ldap://x}", "bot_ua"),
    (
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 (compatible; Google-Ads-Qualify)",
        "bot_ua",
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Google-Sites-Thumbnails",
        "bot_ua",
    ),
    (
        "Mozilla/5.0 (Linux; Android 8.0; Pixel 2 Build/OPD3.170816.012; DuplexWeb-Google/1.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/74.0.3729.131 Mobile Safari/537.36",
        "bot_ua",
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko; Google Search Console) Chrome/41.0.2272.118 Safari/537.36",
        "bot_ua",
    ),
    (
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ChatGPT-User/1.0)",
        "bot_ua",
    ),
    ("Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/120 Feedly", "bot_ua"),
    ("Mozzila/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120", "bot_ua"),
    ("Apache-HttpClient/4.5.14 (Java/17.0.9)", "bot_ua"),
    ("GuzzleHttp/7", "bot_ua"),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
        "automation",
    ),
    (
        "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1",
        "automation",
    ),
    (
        "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
        "automation",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Selenium",
        "automation",
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Puppeteer",
        "automation",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 PTST/240801.180523",
        "automation",
    ),
]


@pytest.mark.parametrize("user_agent", HUMANS)
def test_people_pass(user_agent: str) -> None:
    assert bot_reason(user_agent) is None


@pytest.mark.parametrize(("user_agent", "reason"), BOTS)
def test_bots_are_caught_with_a_reason(user_agent: str, reason: str) -> None:
    assert bot_reason(user_agent) == reason
    assert user_agent_reason(user_agent) == reason


@pytest.mark.parametrize(
    ("host", "spam"),
    [
        ("semalt.com", True),
        ("www.semalt.com", True),
        ("sub.darodar.com", True),
        ("DARODAR.COM", True),
        ("buttons-for-website.com", True),
        ("google.com", False),
        ("notdarodar.com", False),
        ("darodar.com.example.org", False),
        ("", False),
    ],
)
def test_referrer_spam_matches_host_and_subdomains(host: str, spam: bool) -> None:
    assert is_referrer_spam(host) is spam


def test_referrer_spam_is_a_reason_for_a_person_browser() -> None:
    assert bot_reason(HUMANS[0], "semalt.com") == "referrer_spam"
    assert bot_reason(HUMANS[0], "news.ycombinator.com") is None


def test_user_agent_reason_beats_referrer_spam() -> None:
    assert bot_reason("curl/8.5.0", "semalt.com") == "bot_ua"


LABELS = Path(__file__).parents[2] / "bench" / "data" / "bot_labels.csv.gz"


def test_re2_takes_every_pattern_of_the_vendored_list() -> None:
    """A refreshed list with a pattern re2 cannot run (a lookaround) fails here, not quietly
    in production: such a pattern would be left out of the set."""
    _patterns, automation, refused = _pattern_set()
    assert refused == () and automation > 20


def test_the_labelled_set_meets_the_targets() -> None:
    """Every agent of bench/data/bot_labels.csv.gz (sources in its README): >= 97% of bots
    caught, <= 0.3% of browsers dropped, and the browsers of the realistic traffic sample
    (the user-agents package) all pass. bench/bots.py prints the same per split."""
    text = gzip.decompress(LABELS.read_bytes()).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    check = user_agent_reason.__wrapped__
    bots = [row["ua"] for row in rows if row["label"] in ("bot", "automation")]
    humans = [row for row in rows if row["label"] == "human"]
    assert len(bots) > 2500 and len(humans) > 1500
    missed = [ua for ua in bots if check(ua) is None]
    dropped = [row["ua"] for row in humans if check(row["ua"]) is not None]
    assert len(missed) <= 0.03 * len(bots), missed
    assert len(dropped) <= 0.003 * len(humans), dropped
    assert [
        ua for ua in dropped if ua in {r["ua"] for r in humans if r["source"] == "user-agents"}
    ] == []
