"""Segments in the engine, without a database: the ids a request names, which filters may be
saved, and the expansion of `["is", "segment", ids]` at parse time (segments are values
on SiteInfo, looked up by the web layer)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from jetrack.stats.errors import QueryError
from jetrack.stats.optimize import optimize
from jetrack.stats.query import Condition, Connective, Negation, SegmentInfo
from jetrack.stats.segments import check_saved_filters, requested_ids, saved_segment
from tests.stats.queries import UTC_SITE, parsed

DE = Condition("is", "visit:country", ("DE",))
MOBILE = Condition("is", "visit:device", ("Mobile",))
US = Condition("is", "visit:country", ("US",))
GERMAN_PHONES = SegmentInfo(3, "German phones", (DE, MOBILE))
AMERICANS = SegmentInfo(4, "Americans", (US,))
SITE = replace(UTC_SITE, segments=(GERMAN_PHONES, AMERICANS))


@pytest.mark.parametrize(
    ("filters", "ids"),
    [
        ([["is", "segment", [3]]], [3]),
        ([["is", "segment", [3.0]]], [3]),  # JSON Schema's integer includes 3.0
        ([["is", "event:page", ["/"]], ["is", "segment", [4, 3, 4]]], [4, 3]),
        ([["not", ["is", "segment", [3]]]], [3]),
        ([["or", [["is", "visit:country", ["FR"]], ["and", [["is", "segment", [5]]]]]]], [5]),
        ([["is", "event:page", ["segment"]]], []),
        # Not validated yet: whatever is not a segment filter is the schema's to refuse.
        ([["is", "segment", ["3", True, 2.5, None]]], []),
        ("segment", []),
        (None, []),
        ([["is", "segment"]], []),
        ([["not"]], []),
    ],
)
def test_requested_ids(filters: Any, ids: list[int]) -> None:
    assert requested_ids(filters) == ids


def test_one_segment_is_its_filters_joined_with_and() -> None:
    query = parsed(SITE, filters=[["is", "segment", [3]], ["is", "event:page", ["/a"]]])
    page = Condition("is", "event:page", ("/a",))
    assert query.filters == (Connective("and", (DE, MOBILE)), page)
    # The optimizer lifts a top-level and: the same query as the filters written out.
    assert optimize(query).filters == (DE, MOBILE, page)


def test_a_whole_float_id_names_the_segment() -> None:
    assert parsed(SITE, filters=[["is", "segment", [4.0]]]).filters == (Connective("and", (US,)),)


def test_several_segments_are_joined_with_or_and_may_be_negated() -> None:
    either = Connective("or", (Connective("and", (DE, MOBILE)), Connective("and", (US,))))
    assert parsed(SITE, filters=[["is", "segment", [3, 4]]]).filters == (either,)
    negated = parsed(SITE, filters=[["not", ["is", "segment", [4]]]])
    assert negated.filters == (Negation(Connective("and", (US,))),)
    assert optimize(negated).filters == (Negation(US),)


@pytest.mark.parametrize(
    ("site", "filters", "message"),
    [
        (SITE, [["is", "segment", [9]]], "segment 9 is not a segment of this site"),
        (UTC_SITE, [["is", "segment", [3]]], "segment 3 is not a segment of this site"),
        (SITE, [["is", "segment", list(range(1, 7))], ["is", "segment", list(range(7, 12))]],
         "at most 10 segment ids"),
    ],
)  # fmt: skip
def test_unknown_segments_and_too_many_ids_are_refused(
    site: Any, filters: list[Any], message: str
) -> None:
    with pytest.raises(QueryError, match=message):
        parsed(site, filters=filters)


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ([], "at least one filter"),
        (None, "at least one filter"),
        ([["is", "visit:country", "DE"]], r"filters\[0\]\[2\]"),
        ([["or", [["is", "segment", [1]]]]], "cannot contain another segment"),
        ([["contains", "event:page", ["x" * 2000]]] * 3, "5120 bytes"),
    ],
)
def test_what_cannot_be_saved(filters: Any, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        check_saved_filters(filters)


def test_a_stored_segment_the_schema_now_refuses_is_named() -> None:
    assert saved_segment(3, "German phones", [["is", "visit:country", ["DE"]]]).filters == (DE,)
    with pytest.raises(QueryError, match=r"segment 7 \('Old'\) holds filters this version refuses"):
        saved_segment(7, "Old", [["is", "visit:planet", ["Mars"]]])
