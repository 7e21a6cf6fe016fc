"""A small shop's day for the revenue and hostname tests (conftest.py: shop_stores)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jetrack.stats.query import GoalInfo, SiteInfo
from tests.stats.helpers import SITE_ID, event

SHOP = SiteInfo(
    SITE_ID,
    "shop.example",
    "UTC",
    (
        GoalInfo("Purchase", event_name="Purchase", currency="EUR"),
        GoalInfo("Subscribe", event_name="Subscribe", currency="USD"),
        GoalInfo("Signup", event_name="Signup"),
        GoalInfo("Visit /cart", page_path="/cart"),
    ),
)


def _paid(when: str, name: str, amount: str, currency: str, **visit: Any) -> dict[str, Any]:
    return event(when, name=name, revenue_amount=Decimal(amount), revenue_currency=currency,
                 **visit)  # fmt: skip


def shop_rows() -> list[dict[str, Any]]:
    """2024-03-10, UTC. Hostnames: entry (first pageview) and exit (last pageview).

    V1 v1 Google  example.com /  -> shop.example.com /cart   Purchase 10.00 EUR, 20.50 USD
    V2 v2 Twitter example.com /                              Purchase 5.25 EUR, Subscribe
       12.00 USD, Signup with 99.00 EUR (not a revenue goal: never summed)
    V3 v3 Google  shop.example.com /cart                     Purchase without revenue,
       Subscribe 1000 JPY
    V4 v4 Bing    example.com /                              Purchase 7.00 ABC (no rate)
    """
    v1 = {"session_id": 1, "visitor_id": 1, "source": "Google", "entry_page": "/"}
    v2 = {"session_id": 2, "visitor_id": 2, "source": "Twitter", "entry_page": "/"}
    v3 = {"session_id": 3, "visitor_id": 3, "source": "Google", "entry_page": "/cart"}
    v4 = {"session_id": 4, "visitor_id": 4, "source": "Bing", "entry_page": "/"}
    shop = {"hostname": "shop.example.com"}
    return [
        event("2024-03-10 08:00", **v1),
        event("2024-03-10 08:05", pathname="/cart", **shop, **v1),
        _paid("2024-03-10 08:06", "Purchase", "10.00", "EUR", pathname="/cart", **shop, **v1),
        _paid("2024-03-10 08:07", "Purchase", "20.50", "USD", pathname="/cart", **shop, **v1),
        event("2024-03-10 09:00", **v2),
        _paid("2024-03-10 09:01", "Purchase", "5.25", "EUR", **v2),
        _paid("2024-03-10 09:02", "Subscribe", "12.00", "USD", **v2),
        _paid("2024-03-10 09:03", "Signup", "99.00", "EUR", **v2),
        event("2024-03-10 10:00", pathname="/cart", **shop, **v3),
        event("2024-03-10 10:01", name="Purchase", pathname="/cart", **shop, **v3),
        _paid("2024-03-10 10:02", "Subscribe", "1000", "JPY", pathname="/cart", **shop, **v3),
        event("2024-03-10 11:00", **v4),
        _paid("2024-03-10 11:01", "Purchase", "7.00", "ABC", **v4),
    ]
