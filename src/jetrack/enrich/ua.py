"""Parse a User-Agent string into browser, OS and device class (the raw string is never kept)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import ua_parser
from ua_parser import Domain, Parser, load_builtins, load_lazy_builtins


@dataclass(frozen=True, slots=True)
class UserAgentInfo:
    """What Jetrack stores about a browser; versions are "major.minor" or ""."""

    browser: str
    browser_version: str
    os: str
    os_version: str
    device: str


UNKNOWN = UserAgentInfo("", "", "", "", "Desktop")

# ua-parser family -> the name people know. Families not listed are kept as they are.
_BROWSER_NAMES: dict[str, str] = {
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Android WebView",
    "Chromium": "Chromium",
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Firefox Focus": "Firefox",
    "Edge Mobile": "Edge",
    "Opera Mobile": "Opera",
    "Opera Mini": "Opera Mini",
    "Opera Touch": "Opera",
    "Samsung Internet": "Samsung Internet",
    "DuckDuckGo Mobile": "DuckDuckGo",
    "Brave": "Brave",
    "IE": "Internet Explorer",
    "IE Mobile": "Internet Explorer",
    "Amazon Silk": "Silk",
    "Huawei Browser": "Huawei Browser",
    "MiuiBrowser": "Mi Browser",
    "Yandex Browser": "Yandex Browser",
    "UC Browser": "UC Browser",
    "Facebook": "Facebook",
    "Instagram": "Instagram",
}

_OS_NAMES: dict[str, str] = {
    "Mac OS X": "macOS",
    "Mac OS": "macOS",
    "Chrome OS": "Chrome OS",
    "Ubuntu": "Linux",
    "Debian": "Linux",
    "Fedora": "Linux",
    "Red Hat": "Linux",
    "SUSE": "Linux",
    "openSUSE": "Linux",
    "Arch Linux": "Linux",
    "Mint": "Linux",
    "Linux Mint": "Linux",
    "Gentoo": "Linux",
    "Slackware": "Linux",
    "Mandriva": "Linux",
    "CentOS": "Linux",
    "Kubuntu": "Linux",
    "Xubuntu": "Linux",
    "Lubuntu": "Linux",
    "Manjaro": "Linux",
}

# OS versions are meaningless or misleading for these (Chrome OS reports a build number;
# distributions do not report theirs in the UA).
_VERSIONLESS_OS = frozenset({"Chrome OS", "Linux"})

# Device classes from UA tokens. Checked in order; the first match wins.
_TABLET = re.compile(
    r"iPad|Tablet(?! PC)|Kindle|Silk/|PlayBook|Nexus (?:7|9|10)\b|SM-[TPX]\d|GT-P\d|KFA?[A-Z]{2,4}\b|Lenovo TB|Tab\b",
)
_MOBILE = re.compile(r"iPhone|iPod|Mobi|Windows Phone|IEMobile|BlackBerry|BB10|Opera Mini|KaiOS")
_ANDROID = re.compile(r"Android")


@lru_cache(maxsize=1)
def _build_parser() -> Parser:
    """ua-parser over its fastest resolver (ua-parser-rs when installed), without its own cache.

    Only the browser and OS rules: the device class comes from device_class() below, and
    ua-parser-rs's compiled device rules alone took 14 MB of memory (docs/benchmarks.md).
    Built once, on first use (the server's warm_up() at its start), not at import: commands
    that import the ingestion code but parse no UA (`jetrack purge`) skip its ~50 ms of CPU."""
    resolver_class = ua_parser.BestAvailableResolver
    lazy = resolver_class is not ua_parser.BasicResolver
    browsers, systems, _devices = load_lazy_builtins() if lazy else load_builtins()
    return Parser(resolver_class((browsers, systems, [])))


def warm_up() -> None:
    _build_parser()


def _version(major: str | None, minor: str | None) -> str:
    """ "major.minor", just "major" when there is no minor, "" when there is no major."""
    if not major:
        return ""
    return f"{major}.{minor}" if minor else major


def device_class(user_agent: str) -> str:
    """ "Tablet", "Mobile" or "Desktop" from the UA's tokens; unknown devices count as desktop."""
    if _TABLET.search(user_agent):
        return "Tablet"
    if _MOBILE.search(user_agent):
        return "Mobile"
    # Android phones say "Mobile"; an Android UA without it is a tablet by Google's convention.
    if _ANDROID.search(user_agent):
        return "Tablet"
    return "Desktop"


def parse_user_agent_uncached(user_agent: str) -> UserAgentInfo:
    """Parse one UA string; prefer the cached :func:`parse_user_agent` on hot paths."""
    if not user_agent:
        return UNKNOWN
    result = _build_parser()(user_agent, Domain.USER_AGENT | Domain.OS)
    browser = result.user_agent
    system = result.os
    browser_name = ""
    browser_version = ""
    if browser is not None and browser.family != "Other":
        browser_name = _BROWSER_NAMES.get(browser.family, browser.family)
        browser_version = _version(browser.major, browser.minor)
    os_name = ""
    os_version = ""
    if system is not None and system.family != "Other":
        os_name = _OS_NAMES.get(system.family, system.family)
        if os_name not in _VERSIONLESS_OS:
            os_version = _version(system.major, system.minor)
    return UserAgentInfo(
        browser=browser_name,
        browser_version=browser_version,
        os=os_name,
        os_version=os_version,
        device=device_class(user_agent),
    )


@lru_cache(maxsize=16384)
def parse_user_agent(user_agent: str) -> UserAgentInfo:
    """Browser, OS (names and "major.minor" versions) and device class of a UA string."""
    return parse_user_agent_uncached(user_agent)
