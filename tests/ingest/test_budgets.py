"""Budgets per client address: one event counted once per site, a batch budget per
address and minute (429, nothing accepted), a new-visitor budget (a typed drop)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import orjson
import pytest
from starlette.testclient import TestClient

from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.ingest.budgets import AddressBudget
from jetrack.ingest.client_ip import parse_address
from jetrack.ingest.wire import WireError, parse_event
from jetrack.store.stores import Stores
from tests.conftest import METRICS_AUTH
from tests.ingest.conftest import CHROME, VISITOR, clear_of_a_minutes_end, stored

EVENT = {"n": "pageview", "u": "https://example.com/", "d": "example.com"}
MINUTE = 1_900_000_040.0  # 20 s into a clock minute


def test_a_repeated_domain_counts_the_event_once() -> None:
    event = parse_event({**EVENT, "d": "example.com," * 9 + "Example.com , other.org"})
    assert event.domains == ["example.com", "other.org"]


def test_an_event_naming_its_site_ten_times_is_stored_once(
    ingest_client: Callable[..., TestClient], site_stores: Stores
) -> None:
    with ingest_client() as client:
        answer = client.post(
            "/api/event", content=orjson.dumps({**EVENT, "d": "example.com," * 10})
        )
        assert answer.status_code == 202
    assert len(stored(site_stores)) == 1


def test_more_than_ten_different_domains_is_refused() -> None:
    parse_event({**EVENT, "d": ",".join(f"s{n}.example" for n in range(10))})
    with pytest.raises(WireError) as caught:
        parse_event({**EVENT, "d": ",".join(f"s{n}.example" for n in range(11))})
    assert caught.value.field == "domain" and "at most 10" in str(caught.value)


@pytest.mark.parametrize(
    ("spent", "address", "fits"),
    [
        ([], "203.0.113.1", 5),
        ([("203.0.113.1", 3)], "203.0.113.1", 2),
        ([("203.0.113.1", 5)], "203.0.113.2", 5),  # another address, its own budget
        ([("2001:db8:1:2::1", 4)], "2001:db8:1:2::ffff", 1),  # one /64, one budget
        ([("2001:db8:1:2::1", 4)], "2001:db8:1:3::1", 5),
    ],
)  # fmt: skip
def test_address_budget(spent: list[tuple[str, int]], address: str, fits: int) -> None:
    budget = AddressBudget(5)
    for who, units in spent:
        assert budget.take(parse_address(who), units, MINUTE)
    ip = parse_address(address)
    assert not budget.take(ip, fits + 1, MINUTE)  # refused whole: nothing spent
    assert budget.take(ip, fits, MINUTE)
    assert not budget.take(ip, 1, MINUTE + 39)
    assert budget.retry_after(MINUTE + 39) == 1
    assert budget.take(ip, 5, MINUTE + 40)  # the next minute


def test_the_budget_table_is_bounded() -> None:
    budget = AddressBudget(3, max_addresses=100)
    addresses = [parse_address(f"10.0.{n // 256}.{n % 256}") for n in range(1000)]
    assert all(budget.take(ip, 3, MINUTE) for ip in addresses)
    assert len(budget) == 100
    assert not budget.take(addresses[0], 1, MINUTE)  # counted: its budget is spent
    # Past the cap an address is not counted (a shared budget would let a flood of
    # addresses lock out every new one).
    assert budget.take(addresses[500], 1, MINUTE) and len(budget) == 100
    assert budget.take(addresses[500], 1, MINUTE + 60) and len(budget) == 1  # a new minute


@pytest.fixture
def strict_client(settings: Settings, site_stores: Stores) -> Iterator[TestClient]:
    strict = settings.model_copy(
        update={"batch_events_per_minute": 5, "new_visitors_per_minute": 2}
    )
    with TestClient(
        create_app(strict, site_stores), client=VISITOR, headers={"User-Agent": CHROME}
    ) as client:
        yield client


def test_a_batch_over_its_address_budget_is_refused_whole(
    strict_client: TestClient, site_stores: Stores
) -> None:
    clear_of_a_minutes_end()
    ok = strict_client.post("/api/events", content=orjson.dumps([EVENT] * 3))
    assert ok.status_code == 202
    over = strict_client.post(
        "/api/events", content=orjson.dumps([{**EVENT, "u": "https://example.com/late"}] * 3)
    )
    assert over.status_code == 429
    assert 1 <= int(over.headers["retry-after"]) <= 60
    assert over.json()["field"] == "body"
    assert "more than 5 events a minute" in over.json()["error"]
    assert "JETRACK_BATCH_EVENTS_PER_MINUTE" in over.json()["error"]
    assert (
        "jetrack_batches_refused_total 1"
        in strict_client.get("/metrics", headers=METRICS_AUTH).text
    )
    strict_client.__exit__(None, None, None)  # flush
    assert [row["pathname"] for row in stored(site_stores)] == ["/"] * 3  # none of /late


def test_new_visitors_beyond_the_budget_are_dropped(
    strict_client: TestClient, site_stores: Stores
) -> None:
    clear_of_a_minutes_end()
    for n in range(4):  # four user agents from one address: four new visitors
        answer = strict_client.post(
            "/api/event", content=orjson.dumps(EVENT), headers={"User-Agent": f"{CHROME} v{n}"}
        )
        assert answer.status_code == 202
        dropped = answer.headers.get("x-jetrack-dropped")
        assert dropped == (None if n < 2 else "new_visitor_budget")
    again = strict_client.post(
        "/api/event", content=orjson.dumps(EVENT), headers={"User-Agent": f"{CHROME} v0"}
    )
    assert "x-jetrack-dropped" not in again.headers  # a visit under way goes on
    metrics = strict_client.get("/metrics", headers=METRICS_AUTH).text
    assert 'jetrack_events_total{outcome="new_visitor_budget"} 2' in metrics
    strict_client.__exit__(None, None, None)
    assert len(stored(site_stores)) == 3
