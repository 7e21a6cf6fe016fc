"""Visits shared through the real Redis: two clients stand for two Jetrack processes."""

from __future__ import annotations

import threading

import pytest
import redis

from jetrack.config import ConfigError
from jetrack.ingest.sessions import VisitState
from jetrack.ingest.shared_visits import (
    CUSTOM,
    ENGAGEMENT,
    NO_VISIT,
    NOT_ALLOWED,
    PAGEVIEW,
    SharedVisits,
    VisitAsk,
    open_shared_visits,
)
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.redis

ATTRS = ("", "Google", "Organic Search") + ("",) * 17
T0 = 1_780_000_000.25


def ask(visitor: int, now: float, kind: str = PAGEVIEW, page: str = "/", **kw: object) -> VisitAsk:
    values: dict[str, object] = {
        "site_id": 7, "visitor_id": visitor, "previous_visitor_id": None, "now": now,
        "may_start": True, "kind": kind, "hostname": "example.com", "pathname": page,
        "interactive": False, "attributes": ATTRS,
    }  # fmt: skip
    values.update(kw)
    return VisitAsk(**values)  # type: ignore[arg-type]


def test_two_processes_count_one_visit(redis_prefix: str) -> None:
    a = SharedVisits(redis.Redis.from_url(REDIS_URL), 1800, redis_prefix)
    b = SharedVisits(redis.Redis.from_url(REDIS_URL), 1800, redis_prefix)
    # Visitors 1 and 2 alternate between the processes; an engagement ping of visitor 3
    # (no visit) and a new visitor over its address's budget start nothing.
    first = a.resolve([ask(1, T0, page="/a"), ask(2, T0, page="/x")])
    second = b.resolve(
        [ask(1, T0 + 5, page="/b"), ask(1, T0 + 6, CUSTOM, interactive=True),
         ask(3, T0 + 6, ENGAGEMENT), ask(4, T0 + 6, may_start=False)]
    )  # fmt: skip
    third = a.resolve([ask(1, T0 + 9, ENGAGEMENT), ask(2, T0 + 20, page="/y")])
    assert [x.started for x in first] == [True, True]
    assert second[0].visit is not None and not second[0].started
    assert (second[2].visit, second[2].refused) == (None, NO_VISIT)
    assert (second[3].visit, second[3].refused) == (None, NOT_ALLOWED)

    visits_of_1 = [x.visit for x in (first[0], second[0], second[1], third[0])]
    assert all(v is not None for v in visits_of_1)
    assert len({v.session_id for v in visits_of_1 if v}) == 1
    final = visits_of_1[-1]
    assert final is not None
    expected = VisitState(final.session_id, 1, T0, ATTRS, start=int(T0))
    expected.count("pageview", int(T0), "example.com", "/a", False)
    expected.count("pageview", int(T0 + 5), "example.com", "/b", False)
    expected.count("signup", int(T0 + 6), "example.com", "/b", True)
    assert final.totals() == expected.totals()  # the engagement ping counted nothing
    # Each counted event's answer has its own version: the last one is the visit's total.
    assert [v.version for v in visits_of_1 if v] == [1, 2, 3, 3]
    assert final.attributes == ATTRS and final.start == int(T0)
    # Ids from one shared sequence: two visits of the same second differ.
    assert first[0].visit and first[1].visit
    assert first[0].visit.session_id != first[1].visit.session_id
    assert third[1].visit and third[1].visit.exit_page == "/y"
    # The key expires a minute after the idle timeout.
    ttl = a.client.pttl(a.key(7, 1))
    assert 1800_000 < ttl <= 1860_000

    # Past midnight: the visitor's new id goes on with yesterday's visit; after the idle
    # timeout, the same visitor starts a new visit with another id.
    going_on = b.resolve([ask(99, T0 + 60, previous_visitor_id=1)])[0]
    assert going_on.visit is not None and not going_on.started
    assert (going_on.visit.session_id, going_on.visit.visitor_id) == (final.session_id, 1)
    later = a.resolve([ask(1, T0 + 60 + 1801)])[0]
    assert later.started and later.visit and later.visit.session_id != final.session_id


def test_concurrent_events_of_one_visit_are_each_counted_once(redis_prefix: str) -> None:
    clients = [SharedVisits(redis.Redis.from_url(REDIS_URL), 1800, redis_prefix) for _ in range(4)]
    versions: list[int] = []
    lock = threading.Lock()

    def send(visits: SharedVisits) -> None:
        for n in range(25):
            answers = visits.resolve([ask(5, T0 + n, page=f"/{n}"), ask(5, T0 + n, CUSTOM)])
            with lock:
                versions.extend(x.visit.version for x in answers if x.visit)

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 200 events, each answered a version of its own: the highest is the visit's count.
    assert sorted(versions) == list(range(1, 201))


def test_redis_out_of_reach_at_start_is_named() -> None:
    # Nothing listens on port 1: the server refuses to start with the setting named.
    with pytest.raises(ConfigError, match=r"^JETRACK_REDIS_URL: cannot use Redis"):
        open_shared_visits("redis://127.0.0.1:1/0", 1800, "x:")
