"""visit:entry_page_hostname and visit:exit_page_hostname (Plausible's), and top pages by
page and hostname, computed by hand from shop.py:shop_rows, with and without rollups."""

from __future__ import annotations

from typing import Any

from jetrack.stats.engine import run_query
from jetrack.store.stores import Stores
from tests.stats.helpers import at
from tests.stats.shop import SHOP

NOW = at("2024-03-20 12:00")


def ask(stores: Stores, **request: Any) -> list[Any]:
    body = {"site_id": SHOP.domain, "date_range": ["2024-03-10", "2024-03-10"], **request}
    answer = run_query(stores.events, SHOP, body, now=NOW)
    return [(r["dimensions"], r["metrics"]) for r in answer["results"]]


# shop.py: V1 enters on example.com and leaves on shop.example.com; V2 and V4 stay on
# example.com; V3 is on shop.example.com only.


def test_entry_and_exit_page_hostnames(shop_stores: Stores) -> None:
    assert ask(shop_stores, metrics=["visitors"], dimensions=["visit:entry_page_hostname"]) == [
        (["example.com"], [3]),
        (["shop.example.com"], [1]),
    ]
    assert ask(shop_stores, metrics=["visitors"], dimensions=["visit:exit_page_hostname"]) == [
        (["example.com"], [2]),
        (["shop.example.com"], [2]),
    ]
    # Filtered on the entry hostname, grouped by the exit one: V1's crossing.
    assert ask(
        shop_stores,
        metrics=["visitors", "pageviews"],
        dimensions=["visit:exit_page_hostname"],
        filters=[["is", "visit:entry_page_hostname", ["example.com"]]],
    ) == [(["example.com"], [2, 2]), (["shop.example.com"], [1, 2])]
    # As an events filter: the Purchase conversions of visits that ended on the shop.
    assert ask(
        shop_stores,
        metrics=["visitors", "events"],
        filters=[["is", "event:goal", ["Purchase"]],
                 ["is", "visit:exit_page_hostname", ["shop.example.com"]]],
    ) == [([], [2, 3])]  # fmt: skip


def test_top_pages_with_hostnames_use_the_entry_hostname(shop_stores: Stores) -> None:
    # /cart on shop.example.com: viewed in V1 and V3, entered by V3 only (V1 entered on
    # example.com /): bounce rate of V3, which converted (not a bounce).
    assert ask(
        shop_stores,
        metrics=["visits", "bounce_rate"],
        dimensions=["event:page", "event:hostname"],
        order_by=[["event:page", "asc"]],
    ) == [(["/", "example.com"], [3, 0]), (["/cart", "shop.example.com"], [2, 0])]


def test_a_hostname_filter_keeps_the_sources_of_visits_that_entered_there(
    shop_stores: Stores,
) -> None:
    # Events on shop.example.com: V1's cart (V1 entered on example.com) and V3's. By
    # source, only V3 entered on the shop, as in Plausible (a referrer is the entry's).
    host = ["is", "event:hostname", ["shop.example.com"]]
    assert ask(shop_stores, metrics=["visitors"], dimensions=["visit:source"], filters=[host]) == [
        (["Google"], [1])
    ]
    # Without a visit dimension of the entry, both visitors count.
    assert ask(shop_stores, metrics=["visitors"], filters=[host]) == [([], [2])]
