"""The stats engine: validate -> parse -> optimize -> check -> plan -> SQL -> run -> shape.

The runner: the only stats module that touches the event store (the site's first data
day, which days are rolled up, the statement itself); every step between is pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from jetrack.stats import exchange_rates, imported, revenue
from jetrack.stats.errors import QueryError
from jetrack.stats.exchange_rates import ExchangeRates
from jetrack.stats.metrics import as_json
from jetrack.stats.optimize import optimize
from jetrack.stats.params import Params
from jetrack.stats.parse import needs_first_data_day, parse
from jetrack.stats.plan import decide, without_conversion_filters
from jetrack.stats.plan import whole as plan_whole
from jetrack.stats.query import Query, SiteInfo
from jetrack.stats.results import Row, shape
from jetrack.stats.rollup import rolled_window
from jetrack.stats.rules import check, check_patterns, check_values
from jetrack.stats.schema import validate_request
from jetrack.stats.sql import Statement, build
from jetrack.stats.tables import choose
from jetrack.store.events import EventStore, EventStoreError, QueryLimitExceeded
from jetrack.store.imported import IMPORTED_TABLES


def run_query(
    events: EventStore,
    site: Any,
    request: Any,
    *,
    now: datetime | None = None,
    rates: ExchangeRates | None = None,
) -> dict[str, Any]:
    """Answer a Stats API v2 request for `site` (a Site row or a SiteInfo); revenue in
    other currencies than its goal's is converted with `rates` (default: the packaged
    rates; the web layer passes the data dir's, exchange_rates.current).

    Raises QueryError with a message naming the bad field and what would be valid."""
    validate_request(request)
    return run_validated(events, site, request, now=now, rates=rates)


def run_validated(
    events: EventStore,
    site: Any,
    request: dict[str, Any],
    *,
    now: datetime | None = None,
    rates: ExchangeRates | None = None,
) -> dict[str, Any]:
    """run_query for a request that already passed validate_request."""
    return answer(events, prepare(events, site, request, now=now, rates=rates))


def prepare(
    events: EventStore,
    site: Any,
    request: dict[str, Any],
    *,
    now: datetime | None = None,
    rates: ExchangeRates | None = None,
) -> Query:
    """A request that passed validate_request as the optimized, checked Query (other query
    kinds, such as jetrack.stats.funnel, take their date range and filters from here)."""
    info = SiteInfo.from_site(site)
    moment = now or datetime.now(UTC)
    first_day = first_data_day(events, info) if needs_first_data_day(request) else None
    query = parse(request, info, moment, first_day, rates or exchange_rates.packaged())
    check_patterns(query)
    check_values(query)
    query = optimize(query)
    check(query)
    return query


def answer(events: EventStore, query: Query) -> dict[str, Any]:
    span = imported_span(events, query.site_id) if query.imports else None
    decision = imported.decide(query, span) if query.imports else None
    source = decision.source if decision is not None else None
    comparison_rows: list[Row] | None = None
    if source is None and _folds_comparison(query):
        main, comparison_rows = _with_comparison(events, query)
    elif source is None:
        main = fetch(events, query)
        if query.comparison is not None:
            comparison_rows = _comparison(events, query, main.rows)
    else:
        main = _with_imports(events, query, source, span)
        if query.comparison is not None:
            previous = query.replace(
                date_range=query.comparison.date_range, comparison=None, offset=0, limit=10_000
            )
            comparison_rows = _with_imports(events, previous, source, span).rows
    result = shape(query, main.rows, main.total_rows, comparison_rows, revenue.decide(query))
    if decision is not None:
        result["meta"] = {**imported.meta(decision), **result["meta"]}
    return result


def _with_imports(
    events: EventStore, query: Query, source: imported.Source, span: tuple[date, date] | None
) -> Fetched:
    """One statement: the native statement (with the metrics a merge needs) joined with the
    imported table's sums, merged, ordered and paginated in SQL. `span`: the imported days."""
    params = Params()
    sql = _merged(events, query, source, span, params, paginate=True)
    statement = Statement(sql, params.values, len(query.dimensions), list(query.metrics))
    return _fetched(statement, execute(events, statement)[1])


def _merged(
    events: EventStore,
    query: Query,
    source: imported.Source,
    span: tuple[date, date] | None,
    params: Params,
    paginate: bool,
) -> str:
    # Its rows are ordered and paginated after the merge.
    native_query = query.replace(metrics=imported.native_metrics(query), offset=0, order_by=())
    native = _native_sql(events, native_query, params)
    divisor = None
    if set(imported.CONVERSION_RATES) & set(query.metrics):
        # The visitors of the query without its goal filters, imported ones too when the
        # imported tables answer it.
        whole = plan_whole(query, without_conversion_filters(query.filters))
        decision = imported.decide(whole, span)
        if decision.source is None:
            inner = _native_sql(events, whole, params)
        else:
            inner = _merged(events, whole, decision.source, span, params, paginate=False)
        divisor = f"(SELECT m0 FROM ({inner}))"
    return imported.merged_sql(
        query, native, imported.imported_sql(query, source, params), params, paginate, divisor
    )


def _native_sql(events: EventStore, query: Query, params: Params) -> str:
    tables = choose(query)
    plan = decide(query, rolled_window(events, query, tables), tables)
    return build(plan, params=params, paginate=False).sql


def imported_span(events: EventStore, site_id: int) -> tuple[date, date] | None:
    """The first and last day of the site's imported rows, if it has any (one lookup)."""
    params = Params()
    site = params.add(site_id, "UInt32")
    union = " UNION ALL ".join(
        f"SELECT date FROM {table} WHERE site_id = {site}" for table in IMPORTED_TABLES
    )
    sql = f"SELECT toString(min(date)), toString(max(date)), count() FROM ({union})"
    _, rows = execute(events, Statement(sql, params.values, 0, []))
    if not rows or not rows[0][2]:
        return None
    return date.fromisoformat(str(rows[0][0])), date.fromisoformat(str(rows[0][1]))


@dataclass(frozen=True, slots=True)
class Fetched:
    rows: list[Row]
    total_rows: int


def fetch(
    events: EventStore,
    query: Query,
    *,
    only_keys: list[tuple[str, ...]] | None = None,
    paginate: bool = True,
) -> Fetched:
    statement = _plan_statement(events, query, Params(), only_keys=only_keys, paginate=paginate)
    _columns, raw = execute(events, statement)
    fetched = _fetched(statement, raw)
    if not raw and query.offset and paginate:
        return Fetched(fetched.rows, _count_rows(events, query))
    return fetched


def _fetched(statement: Statement, raw: list[tuple[Any, ...]]) -> Fetched:
    """Rows of a statement's answer (dimensions d0.., metrics, the window's row count)."""
    rows = [
        Row(
            tuple(str(v) for v in values[: statement.dimensions]),
            [
                as_json(name, values[statement.dimensions + i])
                for i, name in enumerate(statement.metrics)
            ],
        )
        for values in raw
    ]
    return Fetched(rows, int(raw[0][-1]) if raw else 0)


def _folds_comparison(query: Query) -> bool:
    """Whether the query and its comparison go as one statement: top stats (no dimension,
    first page), whose two answers are one row each."""
    return query.comparison is not None and not query.dimensions and not query.offset


def _with_comparison(events: EventStore, query: Query) -> tuple[Fetched, list[Row]]:
    """The query's rows and its comparison period's, from one statement (each statement
    costs ClickHouse a few ms of its own): the two statements' rows, tagged by period."""
    assert query.comparison is not None
    previous = query.replace(
        date_range=query.comparison.date_range, comparison=None, offset=0, limit=10_000
    )
    params = Params()
    main, earlier = (_plan_statement(events, q, params) for q in (query, previous))
    sql = f"SELECT 0 AS period, * FROM ({main.sql}) UNION ALL SELECT 1, * FROM ({earlier.sql})"
    _columns, raw = execute(events, Statement(sql, params.values, 0, []))
    rows = {period: [row[1:] for row in raw if row[0] == period] for period in (0, 1)}
    return _fetched(main, rows[0]), _fetched(earlier, rows[1]).rows


def _plan_statement(
    events: EventStore,
    query: Query,
    params: Params,
    *,
    only_keys: list[tuple[str, ...]] | None = None,
    paginate: bool = True,
) -> Statement:
    """The statement of `query`, its placeholders in `params`."""
    # The one lookup the plan needs: which days of the range are rolled up.
    tables = choose(query)
    plan = decide(query, rolled_window(events, query, tables), tables)
    return build(plan, params=params, only_keys=only_keys, paginate=paginate)


def _count_rows(events: EventStore, query: Query) -> int:
    # An offset past the last row returns no row to read the window count from.
    fetched = fetch(events, query.replace(offset=0, limit=1))
    return fetched.total_rows


def _comparison(events: EventStore, query: Query, main_rows: list[Row]) -> list[Row]:
    assert query.comparison is not None
    previous = query.replace(date_range=query.comparison.date_range, comparison=None, offset=0)
    if query.time_dimension is not None or not query.dimensions:
        return fetch(events, previous.replace(limit=10_000)).rows
    if not main_rows:
        return []
    keys = [row.dimensions for row in main_rows]
    return fetch(events, previous, only_keys=keys, paginate=False).rows


def first_data_day(events: EventStore, site: SiteInfo) -> date | None:
    params = Params()
    zone = params.add(site.timezone, "String")
    sql = (
        f"SELECT toString(toDate(min(timestamp), {zone})), count() FROM events"
        f" WHERE site_id = {params.add(site.id, 'UInt32')}"
    )
    _, rows = execute(events, Statement(sql, params.values, 0, []))
    if not rows or not rows[0][1]:
        return None
    return date.fromisoformat(str(rows[0][0]))


def execute(events: EventStore, statement: Statement) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Through the event store's one choke point (time limit, row cap, timing)."""
    try:
        result = events.query(statement.sql, statement.params)
    except QueryLimitExceeded:
        raise QueryError(
            "the query ran past its time or row limit; narrow the date range or add filters",
            status=503,
        ) from None
    except EventStoreError as exc:
        text = str(exc)
        if "re2" in text or "CANNOT_COMPILE_REGEXP" in text:
            raise QueryError(
                "filters: a matches/matches_not clause is not a valid re2 regular expression"
            ) from None
        raise
    return result.columns, result.rows


__all__ = ["QueryError", "run_query", "run_validated"]
