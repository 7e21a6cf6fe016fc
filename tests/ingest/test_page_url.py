"""Page URLs: hostname, path and campaign tags, exactly as urlsplit and parse_qsl read them."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from jetrack.ingest.display_text import displayable
from jetrack.ingest.page_url import CLICK_ID_PARAMS, UTM_KEYS, PageUrl, parse_page_url


@pytest.mark.parametrize(
    ("url", "hash_mode", "expected"),
    [
        ("https://example.com", False, PageUrl("example.com", "/", {})),
        ("https://www.Example.COM:8443/Docs/A%20B?x=1#top", False,
         PageUrl("example.com", "/Docs/A B", {})),
        ("https://example.com/app#/settings", True, PageUrl("example.com", "/app#/settings", {})),
        ("https://example.com/?utm_source=news&utm_medium=email&utm_campaign=w%201", False,
         PageUrl("example.com", "/", {"utm_source": "news", "utm_medium": "email",
                                      "utm_campaign": "w 1"})),
        ("https://example.com/?ref=producthunt&gclid=abc&fbclid=x", False,
         PageUrl("example.com", "/", {"utm_source": "producthunt", "click_id_param": "gclid"})),
        ("https://example.com/?utm_source=a&ref=b", False,
         PageUrl("example.com", "/", {"utm_source": "a"})),
        ("https://example.com/?utm_source=&source=x&email=me%40example.com", False,
         PageUrl("example.com", "/", {"utm_source": "x"})),
    ],
)  # fmt: skip
def test_page_url(url: str, hash_mode: bool, expected: PageUrl) -> None:
    assert parse_page_url(url, hash_mode) == expected


def _reference(url: str, hash_mode: bool) -> PageUrl:
    """The straightforward reading with urllib (what parse_page_url must equal)."""
    parts = urlsplit(url)
    path = displayable(unquote(parts.path)) or "/"
    if hash_mode and parts.fragment:
        path += "#" + displayable(parts.fragment)
    query = {k: displayable(v) for k, v in parse_qsl(parts.query, keep_blank_values=False)}
    tags = {key: query[key][:300] for key in UTM_KEYS if key in query}
    if "utm_source" not in tags:
        for alias in ("ref", "source"):
            if query.get(alias):
                tags["utm_source"] = query[alias][:300]
                break
    for param in CLICK_ID_PARAMS:
        if param in query:
            tags["click_id_param"] = param
            break
    return PageUrl(displayable(parts.hostname or "").removeprefix("www."), path[:2000], tags)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a/b/", "http://EXAMPLE.com", "https://example.com:80",
        "https://example.com:", "https://example.com:abc/x", "http:///only-path",
        "https://user:pw@Example.com/x", "https://[2001:db8::1]:8080/x?utm_source=v6",
        "https://[fe80::1%25eTH0]/x", "https://ex%41mple.com/x", "https://exämple.com/ü?q=ö",
        "https://example.com/a b", " https://example.com/lead", "https://example.com/\tx\n",
        "https://example.com/x#a#b?c", "https://example.com/x?a#?b", "https://example.com/%zz%41",
        "https://example.com/?utm_source=a&utm_source=b", "https://example.com/?utm%5Fsource=enc",
        "https://example.com/?utm_source=a+b&utm_term=c%2Bd", "https://example.com/?&&=x&utm_medium",
        "https://example.com/?utm_medium=&utm_medium=cpc", "https://example.com/?gbraid=&dclid=1",
        "https://example.com/?utm_content=" + "x" * 400, "https://example.com/" + "p" * 2100,
        "https://example.com/?source=s&ref=r", "https://example.com/?ref=%E2%82%AC",
        "https://example.com/x\x7fy", "https://example.com/#", "https://example.com/?",
        "HTTPS://WWW.EXAMPLE.COM/UP", "https://www./x", "https://example.com/;p?q",
    ],
)  # fmt: skip
@pytest.mark.parametrize("hash_mode", [False, True])
def test_same_reading_as_urllib(url: str, hash_mode: bool) -> None:
    assert parse_page_url(url, hash_mode) == _reference(url, hash_mode)
