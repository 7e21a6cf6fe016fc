"""Revenue metrics on chDB, numbers computed by hand from tests/stats/shop.py:shop_rows and
the packaged ECB rates of 2025-04-25 (1 EUR = 1.1357 USD = 162.8 JPY), read with and
without rollups."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from jetrack.stats.engine import run_query
from jetrack.stats.exchange_rates import ExchangeRates
from jetrack.stats.revenue import long_money, money, short_money
from jetrack.store.stores import Stores
from tests.stats.helpers import at
from tests.stats.shop import SHOP

NOW = at("2024-03-20 12:00")
DAY = ["2024-03-10", "2024-03-10"]


def ask(stores: Stores, rates: ExchangeRates | None = None, **request: Any) -> dict[str, Any]:
    body = {"site_id": SHOP.domain, "date_range": DAY, **request}
    return run_query(stores.events, SHOP, body, now=NOW, rates=rates)


def rows(answer: dict[str, Any]) -> list[tuple[list[Any], list[Any]]]:
    return [(r["dimensions"], r["metrics"]) for r in answer["results"]]


# Purchase in EUR: 10.00 + 20.50 / 1.1357 (= 18.0505...) + 5.25 = 33.3005...; V3 sent no
# revenue and V4's ABC has no rate: 3 amounts, 11.1002 on average.
PURCHASE_TOTAL = money(33.301, "EUR")
PURCHASE_AVERAGE = money(11.1, "EUR")
# Subscribe in USD: 12.00 + 1000 * 1.1357 / 162.8 (= 6.9760...) = 18.9760...; 9.488 each.
SUBSCRIBE_TOTAL = money(18.976, "USD")
ECB = {"date": "2025-04-25", "base": "EUR",
       "source": "European Central Bank euro foreign exchange reference rates"}  # fmt: skip
REVENUE = ["total_revenue", "average_revenue"]


def test_a_revenue_goal_sums_its_conversions_in_its_currency(shop_stores: Stores) -> None:
    answer = ask(shop_stores, metrics=["visitors", "events", *REVENUE],
                 filters=[["is", "event:goal", ["Purchase"]]])  # fmt: skip
    assert rows(answer) == [([], [4, 5, PURCHASE_TOTAL, PURCHASE_AVERAGE])]
    assert PURCHASE_TOTAL == {
        "short": "€33.3",
        "long": "€33.30",
        "value": 33.301,
        "currency": "EUR",
    }
    # The answer says which rates converted the US dollars.
    assert answer["meta"]["exchange_rates"] == ECB
    assert "metric_warnings" not in answer["meta"]


def test_a_goal_without_currency_adds_no_revenue_even_if_its_events_carry_some(
    shop_stores: Stores,
) -> None:
    # Signup's 99.00 EUR is not revenue: only the revenue goals' events are summed.
    answer = ask(
        shop_stores, metrics=REVENUE, filters=[["is", "event:goal", ["Purchase", "Signup"]]]
    )
    assert rows(answer) == [([], [PURCHASE_TOTAL, PURCHASE_AVERAGE])]


def test_grouped_by_goal_each_goal_is_in_its_own_currency(shop_stores: Stores) -> None:
    answer = ask(shop_stores, metrics=["visitors", "total_revenue"], dimensions=["event:goal"],
                 order_by=[["visitors", "desc"], ["event:goal", "asc"]])  # fmt: skip
    assert rows(answer) == [
        (["Purchase"], [4, PURCHASE_TOTAL]),
        (["Subscribe"], [2, SUBSCRIBE_TOTAL]),
        (["Visit /cart"], [2, None]),  # not a revenue goal: null, as in Plausible
        (["Signup"], [1, None]),
    ]
    assert SUBSCRIBE_TOTAL["long"] == "$18.98"


def test_revenue_is_ordered_by_its_value(shop_stores: Stores) -> None:
    answer = ask(shop_stores, metrics=["total_revenue"], dimensions=["event:goal"],
                 filters=[["is", "event:goal", ["Purchase", "Subscribe"]]],
                 order_by=[["total_revenue", "asc"]])  # fmt: skip
    assert rows(answer) == [(["Subscribe"], [SUBSCRIBE_TOTAL]), (["Purchase"], [PURCHASE_TOTAL])]


def test_revenue_by_a_visit_dimension(shop_stores: Stores) -> None:
    # Google: V1's 10.00 + 18.0505 and V3's purchase without revenue; Bing's ABC: nothing.
    answer = ask(shop_stores, metrics=["visitors", *REVENUE], dimensions=["visit:source"],
                 filters=[["is", "event:goal", ["Purchase"]]])  # fmt: skip
    assert rows(answer) == [
        (["Google"], [2, money(28.051, "EUR"), money(14.025, "EUR")]),
        (["Bing"], [1, money(0.0, "EUR"), money(0.0, "EUR")]),
        (["Twitter"], [1, money(5.25, "EUR"), money(5.25, "EUR")]),
    ]


def test_revenue_by_day(shop_stores: Stores) -> None:
    answer = ask(shop_stores, metrics=["total_revenue"], dimensions=["time:day"],
                 filters=[["is", "event:goal", ["Subscribe"]]])  # fmt: skip
    assert rows(answer) == [(["2024-03-10"], [SUBSCRIBE_TOTAL])]


@pytest.mark.parametrize(
    ("request_body", "code"),
    [
        # No goal filter or dimension: nothing says which goals' revenue (Plausible: null).
        ({}, "no_revenue_goals_matching"),
        ({"filters": [["is", "event:goal", ["Signup"]]]}, "no_revenue_goals_matching"),
        ({"filters": [["contains", "event:goal", ["nothing"]]]}, "no_revenue_goals_matching"),
        # Euros and dollars do not add up without a goal dimension.
        ({"filters": [["is", "event:goal", ["Purchase", "Subscribe"]]]},
         "no_single_revenue_currency"),
        ({"filters": [["contains", "event:goal", ["s"]]]}, "no_single_revenue_currency"),
    ],
)  # fmt: skip
def test_revenue_that_cannot_be_summed_is_null_with_a_warning(
    shop_stores: Stores, request_body: dict[str, Any], code: str
) -> None:
    answer = ask(shop_stores, metrics=["visitors", *REVENUE], **request_body)
    (row,) = answer["results"]
    assert row["metrics"][1:] == [None, None]
    warnings = answer["meta"]["metric_warnings"]
    assert sorted(warnings) == sorted(REVENUE)
    assert {w["code"] for w in warnings.values()} == {code}
    assert "exchange_rates" not in answer["meta"]


def test_other_rates_convert_with_their_own_date(shop_stores: Stores) -> None:
    # An operator's rates (jetrack rates update): 1 EUR = 2 USD; JPY unknown, so Subscribe
    # keeps only its 12.00 USD.
    rates = ExchangeRates(date(2026, 1, 2), "EUR", {"EUR": 1.0, "USD": 2.0}, "test")
    answer = ask(shop_stores, rates, metrics=["total_revenue"], dimensions=["event:goal"],
                 filters=[["is", "event:goal", ["Purchase", "Subscribe"]]],
                 order_by=[["event:goal", "asc"]])  # fmt: skip
    # Purchase: 10.00 + 20.50 / 2 + 5.25 = 25.50
    assert rows(answer) == [
        (["Purchase"], [money(25.5, "EUR")]),
        (["Subscribe"], [money(12.0, "USD")]),
    ]
    assert answer["meta"]["exchange_rates"] == {"date": "2026-01-02", "base": "EUR",
                                                "source": "test"}  # fmt: skip


def test_comparisons_of_revenue(shop_stores: Stores) -> None:
    answer = ask(shop_stores, metrics=["total_revenue"], filters=[["is", "event:goal", ["Purchase"]]],
                 include={"comparisons": {"mode": "previous_period"}})  # fmt: skip
    (row,) = answer["results"]
    assert row["metrics"] == [PURCHASE_TOTAL]
    # Nothing the day before: the change is +100%, the earlier value zero euros.
    assert row["comparison"]["metrics"] == [money(0.0, "EUR")]
    assert row["comparison"]["change"] == [100]


def test_the_http_api_answers_revenue_in_plausibles_shape(shop_stores: Stores) -> None:
    answer = ask(shop_stores, metrics=["total_revenue"], dimensions=["event:goal"],
                 filters=[["is", "event:goal", ["Subscribe"]]])  # fmt: skip
    assert answer["results"] == [{"dimensions": ["Subscribe"], "metrics": [SUBSCRIBE_TOTAL]}]
    assert sorted(SUBSCRIBE_TOTAL) == ["currency", "long", "short", "value"]


@pytest.mark.parametrize(
    ("value", "currency", "short", "long"),
    [
        (96_336_315.0, "USD", "$96.3M", "$96,336,315.00"),
        (500_200_700.246, "EUR", "€500.2M", "€500,200,700.25"),
        (112.0, "EUR", "€112.0", "€112.00"),
        (0.0, "GBP", "£0.0", "£0.00"),
        (1234.6, "JPY", "¥1.2K", "¥1,235"),
        (999.96, "USD", "$1.0K", "$999.96"),
        (2_500_000_000_000.0, "USD", "$2.5T", "$2,500,000,000,000.00"),
        (12.3456, "KWD", "KWD\u00a012.3", "KWD\u00a012.346"),
        (-5.0, "CHF", "-CHF\u00a05.0", "-CHF\u00a05.00"),
        (1500.0, "CAD", "CA$1.5K", "CA$1,500.00"),
    ],
)
def test_money_reads_like_plausibles(value: float, currency: str, short: str, long: str) -> None:
    assert (short_money(value, currency), long_money(value, currency)) == (short, long)


@pytest.mark.parametrize(
    ("dimension", "cart", "home"),
    [("visit:exit_page", "/cart", "/"), ("visit:exit_page_hostname", "shop.example.com",
                                         "example.com")],
)  # fmt: skip
def test_revenue_by_the_visits_exit_page(
    shop_stores: Stores, dimension: str, cart: str, home: str
) -> None:
    # As Plausible (its events query joins the sessions table for the exit page): each
    # purchase counts for its visit's exit page. V1 and V3 left on /cart (shop.example.com):
    # 10.00 EUR + 20.50 USD (18.0505 EUR), V3 paid nothing; V2 and V4 on / (example.com):
    # 5.25 EUR, V4's ABC has no rate.
    answer = ask(shop_stores, metrics=["visitors", *REVENUE], dimensions=[dimension],
                 filters=[["is", "event:goal", ["Purchase"]]],
                 order_by=[["total_revenue", "desc"]])  # fmt: skip
    assert rows(answer) == [
        ([cart], [2, money(28.051, "EUR"), money(14.025, "EUR")]),
        ([home], [2, money(5.25, "EUR"), money(5.25, "EUR")]),
    ]
    # An exit-page filter keeps the visits that left there.
    answer = ask(shop_stores, metrics=["total_revenue"], dimensions=[dimension],
                 filters=[["is", "event:goal", ["Purchase"]], ["is", dimension, [home]]])  # fmt: skip
    assert rows(answer) == [([home], [money(5.25, "EUR")])]
