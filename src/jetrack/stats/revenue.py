"""Revenue metrics (total_revenue, average_revenue), as Plausible defines them: which goals'
revenue a query sums and in which currency, the SQL that sums it, and the money objects
of the answer.

A revenue goal is a custom event goal with a currency. A query sums the revenue of the
events completing the revenue goals its top-level goal filters select (every goal when it
is grouped by event:goal), in their currency: amounts sent in another currency are
converted with the exchange rates the query carries (jetrack.stats.exchange_rates), and
amounts in a currency those rates do not know are left out. Without such goals, or with
goals of several currencies and no event:goal dimension, the metrics are null and the
answer's meta says why (`metric_warnings`), where Plausible says so too."""

from __future__ import annotations

from dataclasses import dataclass

from jetrack.stats import filters as flt
from jetrack.stats.metrics import REVENUE
from jetrack.stats.params import Params
from jetrack.stats.query import Condition, GoalInfo, Query

# Plausible's codes (clients match them); the wording is Jetrack's.
WARNINGS = {
    "no_revenue_goals_matching": "no revenue goal (a goal with a currency) matches the query's"
    " event:goal filters or dimension, so revenue metrics are null",
    "no_single_revenue_currency": "the filtered revenue goals have different currencies; group"
    " by event:goal to see each goal's revenue in its own currency",
}


@dataclass(frozen=True, slots=True)
class RevenuePlan:
    """The revenue goals a query sums (display name, currency); `by_goal`: each row in its
    goal's currency (event:goal dimension), else all in the one currency they share.
    `warning`: why the metrics are null (then nothing is summed)."""

    goals: tuple[GoalInfo, ...] = ()
    by_goal: bool = False
    warning: str | None = None

    @property
    def currency(self) -> str | None:
        """The one currency of every row (not grouped by goal, no warning)."""
        if self.warning or self.by_goal or not self.goals:
            return None
        return self.goals[0].currency

    def currency_of(self, goal_name: str) -> str | None:
        return next((g.currency for g in self.goals if g.display_name == goal_name), None)


def decide(query: Query) -> RevenuePlan | None:
    """The revenue plan of a query that asks for revenue metrics (else None)."""
    if not any(metric in REVENUE for metric in query.metrics):
        return None
    goal_filters = [
        tree
        for tree in query.filters
        if isinstance(tree, Condition) and tree.dimension == "event:goal"
    ]
    by_goal = "event:goal" in query.dimensions
    if goal_filters:
        chosen = [flt.matching_goals(tree, query.goals) for tree in goal_filters]
        goals = [g for g in query.goals if all(g in found for found in chosen)]
    else:
        goals = list(query.goals) if by_goal else []
    revenue = tuple(g for g in goals if g.currency)
    if not revenue:
        return RevenuePlan(warning="no_revenue_goals_matching")
    if not by_goal and len({g.currency for g in revenue}) > 1:
        return RevenuePlan(warning="no_single_revenue_currency")
    return RevenuePlan(revenue, by_goal)


def _floats(values: list[float], params: Params) -> str:
    return "[" + ", ".join(params.add(v, "Float64") for v in values) + "]"


def metric_sql(metric: str, plan: RevenuePlan, query: Query, params: Params) -> str:
    """The metric over events rows (of the events part; grouped by goal, its ARRAY JOIN
    names each row's goal `goal_name`)."""
    if plan.warning:
        return "sum(0)"  # an aggregate: one row per group, whatever it holds
    if plan.by_goal:
        names = params.array([g.display_name for g in plan.goals])
        codes = params.array([g.currency or "" for g in plan.goals])
        target = f"transform(goal_name, {names}, {codes}, '')"
        known = dict(query.rates.rates) if query.rates else {}
        rate_codes = params.array(list(known))
        rates = _floats(list(known.values()), params)
        rate = f"transform(@CODE@, {rate_codes}, {rates}, 0.)"
        counted = (
            f"{target} != '' AND revenue_currency != '' AND (revenue_currency = {target}"
            f" OR (has({rate_codes}, revenue_currency) AND has({rate_codes}, {target})))"
        )
        factor = (
            f"if(revenue_currency = {target}, 1., {rate.replace('@CODE@', target)}"
            f" / {rate.replace('@CODE@', 'revenue_currency')})"
        )
    else:
        currency = plan.currency or ""
        factors = query.rates.factors_to(currency) if query.rates else {currency: 1.0}
        codes = params.array(list(factors))
        counted = f"has({codes}, revenue_currency) AND {flt.goals_sql(list(plan.goals), params)}"
        factor = (
            f"transform(revenue_currency, {codes}, {_floats(list(factors.values()), params)}, 0.)"
        )
    amount = f"toFloat64(revenue_amount) * {factor}"
    if metric == "total_revenue":
        return f"sumIf({amount}, {counted})"
    return f"ifNotFinite(avgIf({amount}, {counted}), 0)"


# --- money, as Plausible's answers show it -------------------------------------------------

# Symbols of the English (CLDR "en") currency formats; other currencies show their code.
SYMBOLS = {
    "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "KRW": "₩", "ILS": "₪",
    "VND": "₫", "PHP": "₱", "NGN": "₦", "CNY": "CN¥", "CAD": "CA$", "AUD": "A$",
    "NZD": "NZ$", "HKD": "HK$", "MXN": "MX$", "BRL": "R$", "TWD": "NT$", "XCD": "EC$",
    "XAF": "FCFA", "XOF": "F\u202fCFA", "XPF": "CFPF",
}  # fmt: skip
# ISO 4217 minor units where they are not 2.
MINOR_UNITS = {
    **dict.fromkeys(
        ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
         "VND", "VUV", "XAF", "XOF", "XPF"], 0),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}  # fmt: skip
_SHORT = [(1e3, "K"), (1e6, "M"), (1e9, "B"), (1e12, "T")]


def _with_symbol(currency: str, number: str, negative: bool) -> str:
    symbol = SYMBOLS.get(currency)
    text = f"{symbol}{number}" if symbol else f"{currency}\u00a0{number}"
    return f"-{text}" if negative else text


def short_money(value: float, currency: str) -> str:
    """$96.3M, €112.0: one decimal, in thousands (K), millions (M), billions (B) or
    trillions (T) from the first that reads at least 1.0."""
    size = abs(value)
    scaled, suffix = round(size, 1), ""
    for unit, name in _SHORT:
        if round(size / unit, 1) >= 1:
            scaled, suffix = round(size / unit, 1), name
    return _with_symbol(currency, f"{scaled:,.1f}{suffix}", value < 0)


def long_money(value: float, currency: str) -> str:
    """$96,336,315.00: the currency's decimals, thousands separated."""
    digits = MINOR_UNITS.get(currency, 2)
    return _with_symbol(currency, f"{abs(value):,.{digits}f}", value < 0)


def money(value: float, currency: str) -> dict[str, object]:
    """A revenue metric's value: {"short", "long", "value", "currency"}."""
    return {
        "short": short_money(value, currency),
        "long": long_money(value, currency),
        "value": value,
        "currency": currency,
    }
