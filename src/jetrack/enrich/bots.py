"""Tell bots, crawlers, automated browsers and referrer spam from people, with a typed reason."""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Final

import re2

from jetrack.enrich.hosts import host_suffixes, normalise_host

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

# What the crawler list leaves out: generic words, HTTP libraries and command-line tools.
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

# The long tail no list can keep up with, caught by how such agents are written. Browsers
# never carry a contact address, a URL or a domain name; tools name what they do.
_RULE_PATTERNS: tuple[str, ...] = (
    # A contact URL or address: "(compatible; Name/1.0; +https://example.com/bot)".
    r"https?://",
    r"\bwww\.",
    r"[\w.+-]@[\w-]+\.[A-Za-z]{2}",
    r"\w\.(?:com|net|org|io|ai|info|biz)\b",
    # Monitors, uptime and link checkers, security scanners, validators, archivers.
    r"[Mm]onitor",
    r"[Uu]ptime",
    r"Observatory",
    r"scanner|(?:^|[^m])Scanner",  # not the CamScanner app's in-app browser
    r"sqlmap|[Nn]ikto|Nmap|masscan|zgrab|WPScan|Acunetix|Netsparker|Nessus|OpenVAS|w3af"
    r"|DirBuster|gobuster|wfuzz|Nuclei|Qualys|Detectify|Burp|Arachni|Wapiti|Expanse",
    r"[Cc]hecker",
    r"[Ff]etcher",
    r"[Aa]rchiver",
    r"[Ii]nspector",
    r"[Cc]lassifier",
    r"[Aa]nalyzer",
    r"[Vv]alidator",
    r"[Aa]udit",
    r"[Pp]robe\b",
    r"[Pp]roxy\)",
    r"Agent\b",
    r"SNAPSHOT",
    r"[Tt]humbnail",
    r"[Aa]rchive\b",
    r"[Ii]ndexer",
    r"[Ee]xtractor",
    r"[Pp]arser\b",
    r"[Dd]ownloader",
    r"[Aa]ggregator",
    r"[Ss]ynthetic",
    r"[Bb]enchmark",
    r"[Ll]oad ?[Tt]est",
    r"[Hh]ttp ?[Cc]lient",
    r"\bSEO\b|\bseo\b",
    # Feed readers.
    r"[Ff]eed[A-Z/ ]|[Ff]eeds?\b|\bRSS\b",
    # AI assistants fetching a page for a user: ChatGPT-User, Claude-User, Perplexity-User.
    r"[A-Za-z]-User\b",
    r"[Ss]creenshot",
    r"wechatdevtools",
    # Google's agents besides Googlebot: Google-Ads-Qualify, Google-Sites-Thumbnails,
    # Google-Read-Aloud, Google-InspectionTool, DuplexWeb-Google, Google Search Console...
    r"[Gg]oogle[-_]",
    r"-Google\b",
    r"Google (?:Search|Favicon|Web Preview|Keep)",
    r"googleweblight",
    r"GoogleOther",
    # Injection probes sent as a user agent: quotes, angle brackets, template syntax.
    r"[\'\"<>`]",
    r"\$\{",
)

# Crawler-list patterns that also match people's browsers, with the browser they match;
# the crawlers they were written for are caught by the rules above.
_OVERBROAD_PATTERNS: dict[str, str] = {
    "Sonic": 'the Slack desktop app ("Sonic Slack_SSB")',
    "Viber": "Viber's in-app browser",
    "008\\/": 'Opera Mini\'s build numbers ("Opera Mini/4.4.39008/37.9178")',
}

# What a person's web browser sends: "Mozilla/N.N " with a rendering engine (a bare
# "Mozilla/5.0 (compatible)" or "Mozilla/5.0 (Name/1.0)" names none), or Opera, UC Browser,
# QQ Browser and the text and old mobile browsers that never claimed to be Mozilla, wherever
# their name stands ("MQQBrowser/39 Mozilla/5.0 (iPhone ...", "HTC MAX 4G Opera/9.5 ...").
# Some logs write spaces as "+" ("Mozilla/5.0+(iPad;+CPU+OS+9_3_1...").
_MOZILLA = re.compile(r"Mozilla/\d\.\d+[ +]")
_ENGINE = re.compile(
    r"Gecko|AppleWebKit|Trident|Presto|MSIE|KHTML|Goanna|Opera|NetFront|UCBrowser|UC Browser"
    r"|IBrowse|Nintendo|PlayStation|Amiga-AWeb|NetPositive|Charon|Fireweb"
)
_OTHER_BROWSER = re.compile(
    r"Opera[/ ]\d|Opera Mobi|Opera Mini|UCWEB|UC ?Browser|QQBrowser|Dolphin \d|Lynx/"
    r"|Links \(|ELinks/|w3m/|IBrowse/|AmigaVoyager/|Amiga-AWeb/|NCSA_Mosaic/|BlackBerry\d"
    r"|Nokia\w*/|SonyEricsson|MOT-|mot-|SAMSUNG-"
)

# A crawler calling itself "compatible" with a browser: "(compatible; Name/1.0)", which
# only Internet Explorer ("compatible; MSIE 9.0"), Konqueror and a few others send too.
_COMPATIBLE_NAME = re.compile(
    r"compatible; ?(?!MSIE |Konqueror/|U; |IEMobile)[A-Za-z][\w.-]*(?:/v?\d|\))"
)

# re2's budget for the pattern set's DFA; below ~32 MB it runs out of room for ~1,600
# patterns and falls back to a slower search. The states are built as agents need them:
# the whole labelled set grows the process by ~9 MB.
_RE2_MAX_MEM = 64 << 20


def _crawler_list() -> list[dict[str, object]]:
    """The vendored crawler-user-agents entries (see data/README.md)."""
    text = (
        resources.files("jetrack.enrich")
        .joinpath("data/crawler-user-agents.json")
        .read_text("utf-8")
    )
    entries: list[dict[str, object]] = json.loads(text)
    return entries


@cache
def _pattern_set() -> tuple[Any, int, tuple[str, ...]]:
    """One re2 set of every pattern, automation ones first; how many of those there are;
    the list's patterns re2 refuses (lookarounds), left out (a test keeps this empty).

    A set answers which patterns occur in one pass of a DFA, linear in the agent's length
    whatever the number of patterns (Python's re tries each alternative at every position).
    """
    automation = list(_AUTOMATION_PATTERNS)
    crawlers = [*_EXTRA_BOT_PATTERNS, *_RULE_PATTERNS]
    for entry in _crawler_list():
        pattern = str(entry["pattern"])
        if pattern in _OVERBROAD_PATTERNS:
            continue
        tags = entry.get("tags")
        if isinstance(tags, list) and "browser-automation" in tags:
            automation.append(pattern)
        else:
            crawlers.append(pattern)
    options = re2.Options()
    options.max_mem = _RE2_MAX_MEM
    options.never_capture = True
    options.log_errors = False
    patterns = re2.Set.SearchSet(options)
    refused: list[str] = []
    added_automation = 0
    for number, pattern in enumerate((*automation, *crawlers)):
        try:
            patterns.Add(pattern)
        except re2.error:
            refused.append(pattern)
        else:
            added_automation += number < len(automation)
    patterns.Compile()
    return patterns, added_automation, tuple(refused)


def _browser_shaped(user_agent: str) -> bool:
    if _MOZILLA.match(user_agent):
        # Nearly every browser says "like Gecko" or "Gecko/": a substring test settles it.
        return "Gecko" in user_agent or _ENGINE.search(user_agent) is not None
    return _OTHER_BROWSER.search(user_agent) is not None


@cache
def _spam_hosts() -> frozenset[str]:
    """Referrer-spam hostnames from the vendored list."""
    text = resources.files("jetrack.enrich").joinpath("data/referrer-spam.txt").read_text("utf-8")
    lines = (line.strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def warm_up() -> None:
    _pattern_set()
    _spam_hosts()


@lru_cache(maxsize=16384)
def user_agent_reason(user_agent: str) -> str | None:
    """ "bot_ua" or "automation" when the UA is not a person's browser, else None."""
    user_agent = user_agent.strip()
    if len(user_agent) < _MIN_UA_LENGTH:
        return BOT_UA
    patterns, automation, _refused = _pattern_set()
    matched = patterns.Match(user_agent)
    if matched:
        return AUTOMATION if min(matched) < automation else BOT_UA
    if not _browser_shaped(user_agent) or _COMPATIBLE_NAME.search(user_agent):
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
