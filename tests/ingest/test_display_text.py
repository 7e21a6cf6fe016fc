"""Characters that spoof how a value is displayed are removed; everything else is kept."""

from __future__ import annotations

import pytest

from jetrack.ingest.display_text import SPOOFING, displayable
from jetrack.ingest.page_url import PageUrl, parse_page_url
from jetrack.ingest.wire import WireError, parse_event


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/pricing", "/pricing"),
        ("/\u202egpj.exe", "/gpj.exe"),  # right-to-left override: shown as /exe.jpg
        ("/a\u202ab\u202bc\u202cd\u202de", "/abcde"),  # embeddings, pop
        ("\u2066x\u2067y\u2068z\u2069", "xyz"),  # isolates
        ("a\u200eb\u200fc\u061cd", "abcd"),  # marks
        ("nul\x00tab\tnl\ncr\rdel\x7f", "nultabnlcrdel"),  # C0 and DEL
        ("c1\x80\x85\x9f", "c1"),
        ("zero\u200bwidth\u2060joiner\ufeff", "zerowidthjoiner"),
        ("line\u2028para\u2029", "linepara"),
        ("/über/日本/مرحبا", "/über/日本/مرحبا"),  # other scripts untouched
        ("👩\u200d💻 \u200cx", "👩\u200d💻 \u200cx"),  # joiners kept: emoji and scripts need them
        ("", ""),
    ],
)  # fmt: skip
def test_displayable(text: str, expected: str) -> None:
    assert displayable(text) == expected


def test_every_listed_character_is_removed() -> None:
    for code in SPOOFING:
        assert displayable(f"a{chr(code)}b") == "ab", hex(code)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/%E2%80%AEgpj.exe", PageUrl("example.com", "/gpj.exe", {})),
        ("https://example.com/a%00b%0A", PageUrl("example.com", "/ab", {})),
        ("https://example.com/%E2%80%8F", PageUrl("example.com", "/", {})),
        ("https://ex\u202eample.com/", PageUrl("example.com", "/", {})),
        ("https://example.com/?utm_source=news%E2%80%AE&utm_campaign=%E2%81%A6x",
         PageUrl("example.com", "/", {"utm_source": "news", "utm_campaign": "x"})),
    ],
)  # fmt: skip
def test_page_url_is_stripped_after_decoding(url: str, expected: PageUrl) -> None:
    assert parse_page_url(url, False) == expected


def test_wire_fields_are_stripped() -> None:
    event = parse_event(
        {
            "n": "Sign\u202eup",
            "u": "https://example.com/",
            "d": "example.com",
            "r": "https://evil.example/\u202ex",
            "p": {"pl\u2067an": "pro\x00", "empty": "\u202e"},
        }
    )
    assert event.name == "Signup"
    assert event.referrer == "https://evil.example/x"
    assert event.props == {"plan": "pro"}  # a value left empty is no value


def test_a_prop_key_of_controls_only_is_refused() -> None:
    with pytest.raises(WireError) as caught:
        parse_event(
            {"n": "x", "u": "https://example.com/", "d": "example.com", "p": {"\u200b": "v"}}
        )
    assert str(caught.value) == "keys must be 1 to 300 characters"
