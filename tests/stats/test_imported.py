"""Which imported table answers a query, or Plausible's reason why none does, decided
without a database (jetrack.stats.imported.decide), and the statement that merges native
and imported rows (tests/imports/test_stats.py checks its answers on chDB)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from jetrack.stats.imported import decide, imported_sql, merged_sql, native_metrics
from jetrack.stats.params import Params
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
    ({"dimensions": ["visit:channel"]}, IMPORTED, "imported_sources"),
    ({"dimensions": ["visit:screen_size"]}, IMPORTED, "unsupported_query"),
    ({"filters": [["matches", "visit:source", ["^Goo"]]]}, IMPORTED, "unsupported_query"),
    ({"filters": [["has_done", ["is", "event:name", ["Signup"]]]]}, IMPORTED,
     "unsupported_query"),
    ({"metrics": ["visitors", "percentage"], "dimensions": ["visit:source"]}, IMPORTED,
     "unsupported_query"),
    # Goals: custom event goals from imported custom events, pageview goals from pages.
    ({"dimensions": ["event:goal"], "metrics": ["visitors", "events", "conversion_rate"]},
     IMPORTED, "imported_custom_events+imported_pages"),
    ({"dimensions": ["event:goal"], "filters": [["is", "event:goal", ["Blog"]]]}, IMPORTED,
     "imported_pages"),
    ({"metrics": ["events", "conversion_rate"], "filters": [["is", "event:goal", ["Signup"]]]},
     IMPORTED, "imported_custom_events"),
    ({"dimensions": ["event:page"], "filters": [["is", "event:goal", ["Blog"]]]}, IMPORTED,
     "imported_pages"),
    ({"filters": [["is", "event:goal", ["Signup", "Blog"]]]}, IMPORTED, "unsupported_query"),
    ({"dimensions": ["event:goal"], "filters": [["contains", "event:page", ["/blog"]]]},
     IMPORTED, "imported_pages"),
    ({"dimensions": ["event:goal"], "filters": [["is", "visit:source", ["Google"]]]}, IMPORTED,
     "unsupported_query"),
    ({"dimensions": ["time:day", "event:goal"], "metrics": ["group_conversion_rate"]},
     IMPORTED, "unsupported_query"),
    # Plausible's url and path properties: only with one of their special goals named.
    ({"dimensions": ["event:props:url"], "metrics": ["visitors", "events"],
      "filters": [["is", "event:name", ["Outbound Link: Click"]]]}, IMPORTED,
     "imported_custom_events"),
    ({"dimensions": ["event:props:url"]}, IMPORTED, "unsupported_query"),
    ({"dimensions": ["event:props:path"], "filters": [["is", "event:name", ["Signup"]]]},
     IMPORTED, "unsupported_query"),
    ({"dimensions": ["event:props:plan"], "filters": [["is", "event:name", ["404"]]]},
     IMPORTED, "unsupported_query"),
]  # fmt: skip


@pytest.mark.parametrize(("request_body", "imported", "expected"), CASES)
def test_decide(
    request_body: dict[str, Any], imported: tuple[date, date] | None, expected: str
) -> None:
    decision = decide(query(**request_body), imported)
    if expected.startswith("imported_"):
        assert decision.included and decision.source is not None
        also = decision.source.also
        assert decision.source.table + (f"+{also.table}" if also else "") == expected
    else:
        assert not decision.included and decision.reason == expected


def test_the_statement_binds_every_value_and_weights_rates_by_visits() -> None:
    asked = query(metrics=["visitors", "bounce_rate"], dimensions=["time:week", "visit:source"],
                  filters=[["contains", "visit:source", ["oo"], {"case_sensitive": False}]])  # fmt: skip
    decision = decide(asked, IMPORTED)
    assert decision.source is not None
    params = Params()
    inner = imported_sql(asked, decision.source, params)
    assert "oo" not in inner and "oo" in params.values.values()
    assert inner.startswith("SELECT toString(greatest(toMonday(date), {p0:Date})) AS d0, if(")
    assert "GROUP BY d0, d1" in inner
    # The native statement asks for visits too: bounce rates are weighted by them.
    assert native_metrics(asked) == ("visitors", "bounce_rate", "visits")
    sql = merged_sql(asked, "NATIVE", inner, params)
    assert "n.m0 + i.i_v AS m0" in sql
    assert "round(100 * (n.m1 * n.m2 / 100 + i.i_b) / (n.m2 + i.i_n), 0)" in sql
    assert "FULL OUTER JOIN" in sql and "USING (d0, d1)" in sql
    assert sql.endswith("ORDER BY d0 ASC, d1 ASC LIMIT {p4:UInt32} OFFSET {p5:UInt32}")
