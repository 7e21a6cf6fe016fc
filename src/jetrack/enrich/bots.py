"""Tell bots, crawlers, automated browsers and referrer spam from people, with a typed reason."""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from importlib import resources
from typing import Final

from jetrack.enrich.hosts import host_suffixes, normalise_host
from jetrack.enrich.pattern_trie import trie_pattern

BOT_UA: Final = "bot_ua"
AUTOMATION: Final = "automation"
REFERRER_SPAM: Final = "referrer_spam"

# Real browsers send 70+ characters; anything this short is a script or a placeholder.
_MIN_UA_LENGTH = 20

# Headless and driven browsers; checked before the crawler list so their reason is specific.
_AUTOMATION_PATTERNS: tuple[str, ...] = (
    r"Headless",
    r"PhantomJS",
    r"SlimerJS",
    r"Selenium",
    r"[Ww]eb[Dd]river",
    r"Puppeteer",
    r"Playwright",
    r"Lighthouse",
    r"Google Page Speed",
    r"PageSpeed",
    r"\bPTST/",
    r"GTmetrix",
    r"Cypress",
    r"\bjsdom/",
    r"HtmlUnit",
    r"Nightmare",
    r"Zombie\.js",
    r"\bSplash\b",
    r"Prerender",
    r"Rendertron",
)

# What the crawler list leaves out: generic words and HTTP libraries.
_EXTRA_BOT_PATTERNS: tuple[str, ...] = (
    r"[Bb]ot\b",
    r"[Bb]ot[/_;-]",
    r"[Cc]rawl",
    r"[Ss]pider",
    r"[Ss]craper?\b",
    r"[Ss]lurp",
    r"^Java/",
    r"^okhttp",
    r"^Dalvik/",
    r"^axios/",
    r"^node-fetch",
    r"^undici",
    r"^Deno/",
    r"^Bun/",
    r"^aiohttp",
    r"^httpx",
    r"^libwww",
    r"^lwp-",
    r"^Ruby",
    r"^Faraday",
    r"^Go-http-client",
    r"^python-",
    r"^Python-",
    r"^Scrapy",
    r"^PostmanRuntime",
    r"^Insomnia",
    r"^Wget",
    r"^curl",
    r"facebookexternalhit",
    r"\bPreview\b",
)

# Everything a browser's tracker request carries starts with one of these.
_BROWSER_PREFIX = re.compile(r"Mozilla/|Opera/")

_LITERAL = re.compile(r"(?:[^\\\[\](){}|.*+?^$]|\\[/.\- ()\[\]+?:_;!])+")
_UNESCAPE = re.compile(r"\\(.)")


def _crawler_list() -> list[dict[str, object]]:
    """The vendored crawler-user-agents entries (see data/README.md)."""
    text = (
        resources.files("jetrack.enrich")
        .joinpath("data/crawler-user-agents.json")
        .read_text("utf-8")
    )
    entries: list[dict[str, object]] = json.loads(text)
    return entries


def _compile(patterns: list[str]) -> re.Pattern[str]:
    """One regex for many patterns: literal ones folded into a trie, the others alternated."""
    literals = [_UNESCAPE.sub(r"\1", p) for p in patterns if _LITERAL.fullmatch(p)]
    others = [p for p in patterns if not _LITERAL.fullmatch(p)]
    parts = [part for part in (trie_pattern(literals), *others) if part]
    return re.compile("|".join(f"(?:{part})" for part in parts))


@cache
def _regexes() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(automation, crawler) regexes, compiled on first use."""
    automation = list(_AUTOMATION_PATTERNS)
    crawlers = list(_EXTRA_BOT_PATTERNS)
    for entry in _crawler_list():
        pattern = str(entry["pattern"])
        tags = entry.get("tags")
        if isinstance(tags, list) and "browser-automation" in tags:
            automation.append(pattern)
        else:
            crawlers.append(pattern)
    return _compile(automation), _compile(crawlers)


@cache
def _spam_hosts() -> frozenset[str]:
    """Referrer-spam hostnames from the vendored list."""
    text = resources.files("jetrack.enrich").joinpath("data/referrer-spam.txt").read_text("utf-8")
    lines = (line.strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def warm_up() -> None:
    _regexes()
    _spam_hosts()


@lru_cache(maxsize=16384)
def user_agent_reason(user_agent: str) -> str | None:
    """ "bot_ua" or "automation" when the UA is not a person's browser, else None."""
    user_agent = user_agent.strip()
    if len(user_agent) < _MIN_UA_LENGTH:
        return BOT_UA
    automation, crawlers = _regexes()
    if automation.search(user_agent):
        return AUTOMATION
    if crawlers.search(user_agent) or not _BROWSER_PREFIX.match(user_agent):
        return BOT_UA
    return None


@lru_cache(maxsize=8192)
def is_referrer_spam(referrer_host: str) -> bool:
    """Whether the host or one of its parent domains is on the referrer-spam list."""
    if not referrer_host:
        return False
    spam = _spam_hosts()
    return any(suffix in spam for suffix in host_suffixes(normalise_host(referrer_host)))


def bot_reason(user_agent: str, referrer_host: str = "") -> str | None:
    """Why an event is not from a person ("bot_ua", "automation", "referrer_spam"), or None."""
    reason = user_agent_reason(user_agent)
    if reason is None and is_referrer_spam(referrer_host):
        return REFERRER_SPAM
    return reason
