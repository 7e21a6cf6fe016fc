"""The wire format: Plausible's long and short names, and 400s that name the field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from jetrack.ingest.wire import WireError, parse_batch, parse_event

BASE = {"name": "pageview", "url": "https://example.com/a", "domain": "example.com"}


def test_long_and_short_names_mean_the_same() -> None:
    long = parse_event(
        {
            **BASE,
            "referrer": "https://t.co/x",
            "props": {"plan": "pro", "n": 3, "ok": True},
            "revenue": {"amount": "19.99", "currency": "eur"},
            "interactive": False,
        }
    )
    short = parse_event(
        {
            "n": "pageview",
            "u": "https://example.com/a",
            "d": "example.com",
            "r": "https://t.co/x",
            "p": {"plan": "pro", "n": 3, "ok": True},
            "$": {"amount": 19.99, "currency": "EUR"},
            "i": False,
        }
    )
    assert long == short
    assert long.props == {"plan": "pro", "n": "3", "ok": "true"}
    assert long.revenue is not None and long.revenue.amount == Decimal("19.990")
    assert long.revenue.currency == "EUR"
    assert long.interactive is False


def test_engagement_fields_hash_mode_width_and_unknown_fields() -> None:
    event = parse_event(
        {**BASE, "name": "engagement", "sd": 140, "e": 5300, "h": 1, "w": 390, "v": 7, "zzz": [1]}
    )
    assert (event.name, event.scroll_depth, event.engagement_ms) == ("engagement", 100, 5300)
    assert event.hash_mode and event.screen_width == 390 and event.interactive is False


def test_several_domains_and_props_as_json_string() -> None:
    event = parse_event({**BASE, "domain": "example.com, Other.org", "props": '{"a": "b"}'})
    assert event.domains == ["example.com", "other.org"]
    assert event.props == {"a": "b"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": None}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": 5}, "name"),
        ({"url": None}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "ftp://example.com/"}, "url"),
        ({"url": "https://example.com/" + "a" * 2000}, "url"),
        ({"domain": ""}, "domain"),
        ({"domain": " , "}, "domain"),
        ({"referrer": 7}, "referrer"),
        ({"props": [1, 2]}, "props"),
        ({"props": {f"k{i}": "v" for i in range(31)}}, "props"),
        ({"props": {"k" * 301: "v"}}, "props." + "k" * 40),
        ({"props": {"k": "v" * 2001}}, "props.k"),
        ({"props": {"k": {"nested": 1}}}, "props.k"),
        ({"props": {"k": [1]}}, "props.k"),
        ({"revenue": {"amount": 1}}, "revenue.currency"),
        ({"revenue": {"amount": "lots", "currency": "EUR"}}, "revenue.amount"),
        ({"revenue": 5}, "revenue"),
        ({"scroll_depth": "deep"}, "scroll_depth"),
    ],
)
def test_bad_fields_are_named(change: dict[str, Any], field: str) -> None:
    with pytest.raises(WireError) as caught:
        parse_event({**BASE, **change})
    assert caught.value.field == field


@pytest.mark.parametrize("body", [[], "x", 5, None, [1]])
def test_bad_batches(body: Any) -> None:
    with pytest.raises(WireError):
        parse_batch(body)


def test_batch_error_names_the_index() -> None:
    with pytest.raises(WireError) as caught:
        parse_batch([BASE, {**BASE, "url": "nope"}])
    assert caught.value.field == "[1].url"
