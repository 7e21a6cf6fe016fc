"""Which imported table answers a query, or Plausible's reason why none does, decided
without a database (jetrack.stats.imported.decide), and the merge of native and imported
rows (counts added, rates weighted by visits, the native statement's order)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from jetrack.stats.imported import decide, merge, statement
from jetrack.stats.results import Row
from tests.stats.queries import UTC_SITE, optimized

DAYS = ["2024-03-09", "2024-03-11"]
IMPORTED = (date(2024, 3, 1), date(2024, 3, 10))


def query(**request: Any) -> Any:
    return optimized(UTC_SITE, **{"date_range": DAYS, "metrics": ["visitors"], **request})


# (request, imported days, the table read or the skip reason)
CASES: list[tuple[dict[str, Any], tuple[date, date] | None, str]] = [
    ({}, IMPORTED, "imported_visitors"),
    ({}, None, "no_imported_data"),
    ({}, (date(2024, 1, 1), date(2024, 3, 8)), "out_of_range"),
    ({"dimensions": ["time:hour"]}, IMPORTED, "unsupported_interval"),
    ({"dimensions": ["time:week"]}, IMPORTED, "imported_visitors"),
    ({"dimensions": ["visit:source"], "metrics": ["visitors", "bounce_rate"]}, IMPORTED,
     "imported_sources"),
    ({"filters": [["is", "visit:utm_medium", ["email"]]]}, IMPORTED, "imported_sources"),
    ({"dimensions": ["visit:country_name"],
      "filters": [["not", ["is", "visit:region", ["DE-BE"]]]]}, IMPORTED, "imported_locations"),
    ({"dimensions": ["event:page"], "metrics": ["pageviews"]}, IMPORTED, "imported_pages"),
    ({"dimensions": ["event:page"], "metrics": ["bounce_rate"]}, IMPORTED, "unsupported_query"),
    ({"dimensions": ["visit:entry_page"], "metrics": ["visits", "visit_duration"]}, IMPORTED,
     "imported_entry_pages"),
    ({"dimensions": ["event:name"], "metrics": ["events"]}, IMPORTED, "imported_custom_events"),
    ({"dimensions": ["visit:source"], "filters": [["is", "visit:device", ["Mobile"]]]},
     IMPORTED, "unsupported_query"),
    ({"dimensions": ["visit:source", "visit:utm_medium"]}, IMPORTED, "unsupported_query"),
    ({"dimensions": ["visit:channel"]}, IMPORTED, "unsupported_query"),
    ({"filters": [["matches", "visit:source", ["^Goo"]]]}, IMPORTED, "unsupported_query"),
    ({"filters": [["has_done", ["is", "event:name", ["Signup"]]]]}, IMPORTED,
     "unsupported_query"),
    ({"metrics": ["visitors", "percentage"], "dimensions": ["visit:source"]}, IMPORTED,
     "unsupported_query"),
]  # fmt: skip


@pytest.mark.parametrize(("request_body", "imported", "expected"), CASES)
def test_decide(
    request_body: dict[str, Any], imported: tuple[date, date] | None, expected: str
) -> None:
    decision = decide(query(**request_body), imported)
    if expected.startswith("imported_"):
        assert decision.included and decision.source is not None
        assert decision.source.table == expected
    else:
        assert not decision.included and decision.reason == expected


def test_statement_binds_every_value() -> None:
    asked = query(dimensions=["time:week", "visit:source"],
                  filters=[["contains", "visit:source", ["oo"], {"case_sensitive": False}]])  # fmt: skip
    decision = decide(asked, IMPORTED)
    assert decision.source is not None
    sql, params = statement(asked, decision.source)
    assert "oo" not in sql and "oo" in params.values()
    assert sql.startswith("SELECT toString(greatest(toMonday(date), {p0:Date})), if(source = ''")
    assert "GROUP BY 1, 2" in sql


def test_merge_adds_counts_and_weights_rates_by_visits() -> None:
    asked = query(metrics=["visits", "bounce_rate", "visit_duration"],
                  dimensions=["visit:source"], order_by=[["visits", "desc"]])  # fmt: skip
    # Native rows carry the query's metrics (visits is one already).
    native = [Row(("Google",), [10, 50, 30]), Row(("Bing",), [1, 100, 0])]
    # Imported partial sums: v, n, pv, b, du, ev.
    imported = [("Google", 5, 10, 20, 0, 600, 0), ("Twitter", 3, 4, 8, 4, 0, 0)]
    merged = merge(asked, native, imported)
    assert merged == [
        Row(("Google",), [20, 25, 45]),  # (5 + 0) bounces of 20, (300 + 600) s / 20
        Row(("Twitter",), [4, 100, 0]),
        Row(("Bing",), [1, 100, 0]),
    ]
