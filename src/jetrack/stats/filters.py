"""Filter operators as a declarative table, and filter trees turned into SQL conditions.

A template's `{expr}` is a dimension expression from jetrack.stats.dimensions and
`{values}` an array of bind-parameter placeholders: user text never becomes SQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from jetrack.stats.params import Params
from jetrack.stats.query import Behaviour, Condition, Filter, GoalInfo, Negation
from jetrack.store.schema import SOURCE_SQL

# What SOURCE_SQL names the empty source.
DIRECT = "Direct / None"


@dataclass(frozen=True)
class Operator:
    name: str
    template: str
    case_insensitive_template: str
    description: str


OPERATORS = {
    op.name: op
    for op in [
        # IN over a tuple of placeholders, not has(array, column): ClickHouse looks a
        # LowCardinality column's dictionary up in the set, about half the CPU per row.
        Operator(
            "is",
            "{expr} IN ({tuple})",
            "lowerUTF8({expr}) IN ({lowered})",
            "equals one of the clauses",
        ),
        Operator(
            "is_not",
            "{expr} NOT IN ({tuple})",
            "lowerUTF8({expr}) NOT IN ({lowered})",
            "equals none of the clauses",
        ),
        Operator(
            "contains",
            "multiSearchAny({expr}, {values})",
            "multiSearchAnyCaseInsensitiveUTF8({expr}, {values})",
            "contains one of the clauses",
        ),
        Operator(
            "contains_not",
            "NOT multiSearchAny({expr}, {values})",
            "NOT multiSearchAnyCaseInsensitiveUTF8({expr}, {values})",
            "contains none of the clauses",
        ),
        Operator(
            "matches",
            "arrayExists(r -> match({expr}, r), {values})",
            "arrayExists(r -> match({expr}, concat('(?i)', r)), {values})",
            "matches one of the clauses (re2 regular expressions)",
        ),
        Operator(
            "matches_not",
            "NOT arrayExists(r -> match({expr}, r), {values})",
            "NOT arrayExists(r -> match({expr}, concat('(?i)', r)), {values})",
            "matches none of the clauses (re2 regular expressions)",
        ),
    ]
}


def condition_sql(condition: Condition, expr: str, params: Params) -> str:
    operator = OPERATORS[condition.operator]
    clauses = condition.clauses
    if expr == SOURCE_SQL and condition.operator in ("is", "is_not") and condition.case_sensitive:
        # The stored column, not the expression that names the empty source (per row):
        # '' is Direct / None, and only that.
        expr = "source"
        empty = [""] if DIRECT in clauses else []
        clauses = tuple(c for c in clauses if c != "") + tuple(empty)
        if not clauses:  # only '': no source is named ''
            return "(0)" if condition.operator == "is" else "(1)"
    template = operator.template if condition.case_sensitive else operator.case_insensitive_template
    placeholders = [params.add(v, "String") for v in clauses]
    return (
        "("
        + template.format(
            expr=expr,
            values="[" + ", ".join(placeholders) + "]",
            tuple=", ".join(placeholders),
            lowered=", ".join(f"lowerUTF8({v})" for v in placeholders),
        )
        + ")"
    )


def tree_sql(
    tree: Filter,
    expr_for: Callable[[str], str],
    params: Params,
    goal_sql: Callable[[Condition], str],
    behaviour_sql: Callable[[Behaviour], str],
) -> str:
    """One filter tree as a boolean SQL expression; `expr_for` maps a dimension to SQL,
    `goal_sql` renders a goal condition and `behaviour_sql` a has_done/has_not_done."""
    if isinstance(tree, Condition):
        if tree.dimension == "event:goal":
            return goal_sql(tree)
        return condition_sql(tree, expr_for(tree.dimension), params)
    if isinstance(tree, Behaviour):
        return behaviour_sql(tree)
    if isinstance(tree, Negation):
        return f"NOT {tree_sql(tree.child, expr_for, params, goal_sql, behaviour_sql)}"
    joiner = " AND " if tree.operator == "and" else " OR "
    parts = [tree_sql(child, expr_for, params, goal_sql, behaviour_sql) for child in tree.children]
    return "(" + joiner.join(parts) + ")"


def all_sql(
    trees: tuple[Filter, ...] | list[Filter],
    expr_for: Callable[[str], str],
    params: Params,
    goal_sql: Callable[[Condition], str],
    behaviour_sql: Callable[[Behaviour], str],
) -> str:
    if not trees:
        return "1"
    return " AND ".join(tree_sql(tree, expr_for, params, goal_sql, behaviour_sql) for tree in trees)


_RE_SPECIAL = set(".^$|?*+()[]{}\\")


def wildcard_regex(path: str) -> str:
    """A goal page path with `*` (any characters but /) and `**` (anything) as re2."""
    out = ""
    index = 0
    while index < len(path):
        if path.startswith("**", index):
            out += ".*"
            index += 2
        elif path[index] == "*":
            out += "[^/]*"
            index += 1
        else:
            out += "\\" + path[index] if path[index] in _RE_SPECIAL else path[index]
            index += 1
    return "^" + out + "$"


def goal_match_sql(goal: GoalInfo, params: Params) -> str:
    """True for an event that completes `goal`."""
    if goal.event_name is not None:
        target = f"name = {params.add(goal.event_name, 'String')}"
    elif "*" not in (goal.page_path or ""):
        # One page: an equality, far cheaper per event than the regular expression.
        target = f"name = 'pageview' AND pathname = {params.add(goal.page_path or '', 'String')}"
    else:
        pattern = params.add(wildcard_regex(goal.page_path or ""), "String")
        target = f"name = 'pageview' AND match(pathname, {pattern})"
    return "(" + target + "".join(_prop_sql(k, v, params) for k, v in goal.custom_props) + ")"


def _prop_sql(key: str, value: str, params: Params) -> str:
    # mapContains: a missing key reads as '' and must not match a goal asking for ''.
    k = params.add(key, "String")
    return f" AND mapContains(props, {k}) AND props[{k}] = {params.add(value, 'String')}"


def matching_goals(condition: Condition, goals: tuple[GoalInfo, ...]) -> list[GoalInfo]:
    """The site's goals an `event:goal` condition (is / contains) selects."""

    def norm(text: str) -> str:
        return text if condition.case_sensitive else text.lower()

    clauses = [norm(c) for c in condition.clauses]
    if condition.operator == "is":
        return [g for g in goals if norm(g.display_name) in clauses]
    return [g for g in goals if any(c in norm(g.display_name) for c in clauses)]


def goals_sql(goals: list[GoalInfo], params: Params) -> str:
    if not goals:
        return "0"
    return "(" + " OR ".join(goal_match_sql(g, params) for g in goals) + ")"
