"""PolicyMiddleware's per-client budgets (ClientBudgets) on their own, on a clock the test
moves: a full table never hands a limited client a fresh budget."""

from __future__ import annotations

from jetrack.rate_limits import MAX_KEYS
from jetrack.web.policy import POLICIES, Budget
from jetrack.web.policy_middleware import ClientBudgets

FORMS = Budget("anonymous forms", "client", limit=3, window_seconds=600)
START = 1_900_000_200.0  # the start of a 10-minute window


def test_a_spent_budget_waits_for_its_window() -> None:
    budgets = ClientBudgets()
    assert [budgets.hit(FORMS, "198.51.100.1", START) for _ in range(4)] == [0, 0, 0, 600]
    assert budgets.hit(FORMS, "198.51.100.2", START) == 0  # another client, its own budget
    assert budgets.hit(FORMS, "198.51.100.1", START + 599.5) == 1
    assert budgets.hit(FORMS, "198.51.100.1", START + 600) == 0  # the next window


def test_a_full_table_keeps_the_clients_it_limits() -> None:
    """It used to clear every window once it held 100,000: a limited client that waited
    for a flood of new addresses got a fresh budget."""
    budgets = ClientBudgets()
    for _ in range(3):
        budgets.hit(FORMS, "198.51.100.1", START)
    assert budgets.hit(FORMS, "198.51.100.1", START) > 0
    for n in range(MAX_KEYS + 10):  # a flood of new addresses, one request each
        budgets.hit(FORMS, f"10.{n >> 16}.{(n >> 8) & 255}.{n & 255}", START + 1)
    assert budgets.hit(FORMS, "198.51.100.1", START + 2) > 0  # still limited
    assert len(budgets.tables[FORMS.name]) == MAX_KEYS  # bounded
    # The oldest clients under their limit made room: the first of the flood counts anew.
    assert [budgets.hit(FORMS, "10.0.0.0", START + 3) for _ in range(4)] == [0, 0, 0, 597]


def test_the_shared_link_budget_answers_its_limit_and_refuses_the_next() -> None:
    budget = POLICIES["POST /api/share/{slug}/query"].budget
    assert budget is not None and budget.limit == 600
    budgets = ClientBudgets()
    waits = [budgets.hit(budget, "198.51.100.1", START) for _ in range(budget.limit + 1)]
    assert waits[:-1] == [0] * budget.limit  # the 600 in the window go through
    assert waits[-1] == budget.window_seconds  # the 601st waits for the next window
