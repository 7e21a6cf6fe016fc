"""bot_reason: crawlers, HTTP clients, automated browsers and referrer spam are told apart."""

from __future__ import annotations

import pytest

from jetrack.enrich.bots import bot_reason, is_referrer_spam, user_agent_reason

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
