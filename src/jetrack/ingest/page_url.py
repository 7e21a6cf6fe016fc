"""The page URL of an event: its hostname, its path, and the campaign tags of its query."""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import unquote, unquote_plus, urlsplit

from jetrack.ingest.display_text import displayable

CLICK_ID_PARAMS = (
    "gclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "fbclid",
    "ttclid",
    "twclid",
    "li_fat_id",
    "yclid",
    "dclid",
)
UTM_KEYS = ("utm_medium", "utm_source", "utm_campaign", "utm_content", "utm_term")
_SOURCE_ALIASES = ("ref", "source")
_WANTED = frozenset((*UTM_KEYS, *_SOURCE_ALIASES, *CLICK_ID_PARAMS))
MAX_PATH = 2000
MAX_TAG = 300

# The common shape, split by one regex: http(s)://host[:port]/path?query#fragment without
# spaces, control characters, user info, brackets or % in the host. Anything else goes to
# urlsplit.
_PLAIN_URL = re.compile(
    r"[A-Za-z]+://([^/?#@%\[\]\x00-\x20\x7f]*)((?:/[^?#\x00-\x20\x7f]*)?)"
    r"(?:\?([^#\x00-\x20\x7f]*))?(?:#([^\x00-\x20\x7f]*))?"
)


class PageUrl(NamedTuple):
    hostname: str  # lower case, without "www."
    pathname: str  # percent-decoded; with the fragment in hash mode
    tags: dict[str, str]  # utm_* (ref/source as utm_source) and click_id_param, nothing else


def _split(url: str) -> tuple[str, str, str, str]:
    """(hostname, path, query, fragment), as urlsplit would give them."""
    plain = _PLAIN_URL.fullmatch(url)
    if plain is not None and plain[1].isascii():  # a printable ASCII host, by the regex
        netloc, path, query, fragment = plain.groups(default="")
        return netloc.partition(":")[0].lower(), path, query, fragment
    parts = urlsplit(url)
    return displayable(parts.hostname or ""), parts.path, parts.query, parts.fragment


def campaign_tags(query: str) -> dict[str, str]:
    """utm_* values (`ref` or `source` standing in for utm_source) and the name of the first
    ad click id present: never the rest of the query. As parse_qsl reads a query: blank
    values dropped, the last of repeated names wins."""
    found: dict[str, str] = {}
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if not value:
            continue
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if name in _WANTED:
            found[name] = displayable(unquote_plus(value))
    if not found:
        return found
    tags = {key: found[key][:MAX_TAG] for key in UTM_KEYS if key in found}
    if "utm_source" not in tags:
        for alias in _SOURCE_ALIASES:
            if alias in found:
                tags["utm_source"] = found[alias][:MAX_TAG]
                break
    for param in CLICK_ID_PARAMS:
        if param in found:
            tags["click_id_param"] = param
            break
    return tags


def parse_page_url(url: str, hash_mode: bool) -> PageUrl:
    hostname, path, query, fragment = _split(url)
    path = displayable(unquote(path)) or "/"  # after decoding: %E2%80%AE is U+202E
    if hash_mode and fragment:
        path += "#" + displayable(fragment)
    return PageUrl(
        hostname.removeprefix("www."),
        path[:MAX_PATH],
        campaign_tags(query) if query else {},
    )
