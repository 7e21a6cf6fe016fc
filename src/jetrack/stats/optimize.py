"""The optimizer: a list of pure Query -> Query steps, run in order."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from jetrack.stats.dates import auto_bucket
from jetrack.stats.dimensions import DIMENSIONS, label_table
from jetrack.stats.patterns import compile_pattern
from jetrack.stats.query import Behaviour, Condition, Connective, Filter, Negation, Query

Step = Callable[[Query], Query]


def resolve_time_bucket(query: Query) -> Query:
    """`time` becomes time:hour/day/week/month, chosen from the length of the range."""
    if "time" not in query.dimensions:
        return query
    bucket = auto_bucket(query.date_range)
    return query.replace(
        dimensions=tuple(bucket if d == "time" else d for d in query.dimensions),
        order_by=tuple((bucket if n == "time" else n, o) for n, o in query.order_by),
    )


def _simplify(tree: Filter) -> Filter:
    if isinstance(tree, Behaviour):
        return Behaviour(tree.operator, _simplify(tree.child))
    if isinstance(tree, Negation):
        inner = _simplify(tree.child)
        return inner.child if isinstance(inner, Negation) else Negation(inner)
    if isinstance(tree, Connective):
        children: list[Filter] = []
        for child in map(_simplify, tree.children):
            if isinstance(child, Connective) and child.operator == tree.operator:
                children.extend(child.children)
            else:
                children.append(child)
        return children[0] if len(children) == 1 else Connective(tree.operator, tuple(children))
    return tree


def flatten_filters(query: Query) -> Query:
    """Top-level `and`s become separate filters; nested same-operator groups merge;
    one-child groups and double negations disappear."""
    out: list[Filter] = []
    for tree in map(_simplify, query.filters):
        if isinstance(tree, Connective) and tree.operator == "and":
            out.extend(tree.children)
        else:
            out.append(tree)
    return query.replace(filters=tuple(out))


_NO_CODE = "(no such code)"  # matches no stored code


def _codes_for(condition: Condition, table: dict[str, str]) -> tuple[str, ...]:
    positive = condition.operator.removesuffix("_not")
    flags = 0 if condition.case_sensitive else re.IGNORECASE
    patterns = (
        [compile_pattern(c, condition.case_sensitive) for c in condition.clauses]
        if positive == "matches"
        else []
    )

    def hit(name: str) -> bool:
        for clause in condition.clauses:
            if positive == "is" and (
                name == clause if flags == 0 else name.lower() == clause.lower()
            ):
                return True
            if positive == "contains" and (
                clause in name if flags == 0 else clause.lower() in name.lower()
            ):
                return True
        return any(p.search(name) for p in patterns)

    return tuple(sorted(code for code, name in table.items() if hit(name))) or (_NO_CODE,)


def _resolve_names(tree: Filter) -> Filter:
    if isinstance(tree, Behaviour):
        return Behaviour(tree.operator, _resolve_names(tree.child))
    if isinstance(tree, Negation):
        return Negation(_resolve_names(tree.child))
    if isinstance(tree, Connective):
        return Connective(tree.operator, tuple(map(_resolve_names, tree.children)))
    row = DIMENSIONS.get(tree.dimension)
    if row is None or row.label is None:
        return tree
    code_dimension = "visit:country" if row.label == "country" else "visit:region"
    operator = "is_not" if tree.operator.endswith("_not") else "is"
    return Condition(operator, code_dimension, _codes_for(tree, label_table(row.label)))


def resolve_location_names(query: Query) -> Query:
    """Filters on country/region names become filters on the stored ISO codes."""
    return query.replace(filters=tuple(map(_resolve_names, query.filters)))


# Visit dimensions fixed by the visit's first page (or, for the exit page, its last): with
# an event:hostname filter they are narrowed to visits that entered (left) on that host.
_HOSTNAME_OF = {
    **dict.fromkeys(
        ["visit:source", "visit:referrer", "visit:entry_page", "visit:utm_medium",
         "visit:utm_source", "visit:utm_campaign", "visit:utm_content", "visit:utm_term"],
        "visit:entry_page_hostname",
    ),
    "visit:exit_page": "visit:exit_page_hostname",
}  # fmt: skip


def extend_hostname_filters_to_visit(query: Query) -> Query:
    """Plausible's: grouped by source, entry page or UTM (exit page), a top-level
    event:hostname filter also applies to the visit's entry (exit) page hostname, so a
    breakdown does not show referrers of visits that landed on another host."""
    hostname = [
        t for t in query.filters if isinstance(t, Condition) and t.dimension == "event:hostname"
    ]
    extra = [
        replace(tree, dimension=_HOSTNAME_OF[d])
        for d in dict.fromkeys(query.dimensions)
        if d in _HOSTNAME_OF
        for tree in hostname
    ]
    return query.replace(filters=query.filters + tuple(dict.fromkeys(extra))) if extra else query


def default_order(query: Query) -> Query:
    """Without order_by: a time dimension ascending, else the first metric descending."""
    if query.order_by:
        return query
    time_dimension = query.time_dimension
    if time_dimension:
        return query.replace(order_by=((time_dimension, "asc"),))
    return query.replace(order_by=((query.metrics[0], "desc"),))


STEPS: list[Step] = [
    resolve_time_bucket,
    flatten_filters,
    resolve_location_names,
    extend_hostname_filters_to_visit,
    default_order,
]


def optimize(query: Query) -> Query:
    for step in STEPS:
        query = step(query)
    return query
