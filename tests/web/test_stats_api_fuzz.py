"""Property-based fuzzing of every stats query endpoint: whatever the body, no 5xx, and a
4xx is JSON whose error names something. Deterministic (derandomized) so CI repeats it."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jetrack.stats.schema import query_schema
from tests.stats.two_sites import App, make_app

FUZZ = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    yield from make_app(tmp_path_factory.mktemp("fuzz") / "data")


_defs = query_schema()["$defs"]
METRICS = _defs["metric"]["enum"]
DIMENSIONS = [
    *_defs["simple_dimension"]["enum"],
    *_defs["time_dimension"]["enum"],
    "event:goal",
    "event:props:plan",
]
FILTER_DIMENSIONS = [*_defs["simple_dimension"]["enum"], "event:goal", "event:props:plan"]
OPERATORS = _defs["filter_operator"]["enum"]
SHORTHANDS = _defs["date_range_shorthand"]["enum"]

odd_text = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", "\x00", "'", "\\", "é", "😀", "\u202e", "%s", "{x:String}", "NaN"]),
)
regex_text = st.one_of(
    st.sampled_from(
        ["(", ")", "(" * 300, "[z-a]", "a{1001}", "\\", "(?<n>a)", "(?=a)", "\\pZ", "a**", ".*"]
    ),
    st.text(alphabet="()[]{}*+?|^$\\.-azAZ09", max_size=30),
)
days = st.one_of(
    st.dates().map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}"),
    st.sampled_from(["2024-02-30", "2024-13-01", "0000-00-00", "9999-12-31", "0001-01-01"]),
)
instants = st.one_of(
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S")),
    st.sampled_from(["2024-03-10T25:00:00", "2024-03-10T00:00:00+99:99", "9999-12-31 23:59:59"]),
)
date_ranges = st.one_of(
    st.sampled_from(SHORTHANDS),
    st.sampled_from(
        ["1d", "7d", "5000d", "5001d", "0d", "007d", "12mo", "100mo", "101mo", "9" * 20 + "d"]
    ),
    st.lists(days, min_size=2, max_size=2),
    st.lists(instants, min_size=2, max_size=2),
    st.lists(st.sampled_from(["1970-01-01", "2024-03-10", "2105-12-31"]), min_size=2, max_size=2),
)
simple_filters = st.builds(
    lambda op, dim, clauses, mods: [op, dim, clauses, *mods],
    st.one_of(st.sampled_from(OPERATORS), odd_text),
    st.one_of(st.sampled_from(FILTER_DIMENSIONS), odd_text),
    st.lists(st.one_of(odd_text, regex_text, st.integers()), min_size=0, max_size=3),
    st.one_of(st.just([]), st.just([{"case_sensitive": False}]), st.just([{"x": 1}])),
)
filters = st.recursive(
    simple_filters,
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(["and", "or"]), st.lists(inner, max_size=3)).map(list),
        inner.map(lambda child: ["not", child]),
        st.tuples(st.sampled_from(["has_done", "has_not_done"]), inner).map(list),
    ),
    max_leaves=12,
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | odd_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(odd_text, inner, max_size=4),
    max_leaves=10,
)
shaped = st.fixed_dictionaries(
    {
        "metrics": st.lists(st.sampled_from(METRICS), min_size=1, max_size=3, unique=True),
        "date_range": date_ranges,
    },
    optional={
        "dimensions": st.lists(st.sampled_from(DIMENSIONS), max_size=2, unique=True),
        "filters": st.lists(filters, max_size=2),
        "order_by": st.lists(
            st.tuples(
                st.sampled_from([*METRICS, *DIMENSIONS]), st.sampled_from(["asc", "desc"])
            ).map(list),
            max_size=2,
        ),
        "include": st.fixed_dictionaries(
            {},
            optional={
                "time_labels": st.booleans(),
                "total_rows": st.booleans(),
                "comparisons": st.fixed_dictionaries(
                    {"mode": st.sampled_from(["previous_period", "year_over_year", "custom"])},
                    optional={
                        "match_day_of_week": st.booleans(),
                        "date_range": st.lists(days, min_size=2, max_size=2),
                    },
                ),
            },
        ),
        "pagination": st.fixed_dictionaries(
            {}, optional={"limit": st.integers(-5, 20_000), "offset": st.integers(-5, 10**7)}
        ),
    },
)
# Wrong types anywhere, unknown keys, and bodies that are not objects at all.
hostile = st.one_of(
    st.dictionaries(
        st.sampled_from(["metrics", "date_range", "dimensions", "filters", "include", "zzz"]),
        json_values,
        max_size=4,
    ),
    json_values,
    shaped.map(lambda body: {**body, "filters": [_nest(["is", "visit:country", ["DE"]], 40)]}),
)


def _nest(tree: Any, levels: int) -> Any:
    for level in range(levels):
        tree = ["not", tree] if level % 2 else ["or", [tree]]
    return tree


bodies = st.one_of(shaped, shaped, hostile)
raw_bodies = st.one_of(
    st.sampled_from(["", "{", "[" * 5000, '{"a":' * 5000, "null", "1e999", '"x"', "\xff"]),
    st.text(max_size=50),
)


STATUSES: Counter[int] = Counter()  # what the fuzzing got back, for a look by hand


def answered_well(response: httpx2.Response) -> None:
    STATUSES[response.status_code] += 1
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        data = response.json()
        assert isinstance(data, dict) and isinstance(data.get("error"), str), response.text
        assert data["error"].strip(), response.text
    else:
        assert isinstance(response.json(), dict)


def _ask(app: App, endpoint: str, body: Any) -> httpx2.Response:
    if endpoint == "shared link":
        return app.shared("a.com", body)
    if endpoint == "dashboard":
        return app.dashboard("a.com", json.dumps(body))
    payload = {"site_id": "a.com", **body} if isinstance(body, dict) else body
    headers = {"Authorization": f"Bearer {app.keys['a.com']}"}
    return app.client.post("/api/v2/query", content=json.dumps(payload), headers=headers)


# The three query endpoints share one request handling (web/dashboard.py, stats_api.py):
# each body goes to one of them, drawn with it, rather than every body to all three.
@settings(FUZZ, max_examples=300)
@given(endpoint=st.sampled_from(["shared link", "Stats API v2", "dashboard"]), body=bodies)
def test_fuzz_query_endpoints(app: App, endpoint: str, body: Any) -> None:
    answered_well(_ask(app, endpoint, body))


@settings(FUZZ, max_examples=60)
@given(body=raw_bodies)
def test_fuzz_raw_bodies(app: App, body: str) -> None:
    answered_well(app.shared("a.com", body))
    answered_well(app.dashboard("a.com", body))
    answered_well(app.v2("a.com", body))


v1_params = st.fixed_dictionaries(
    {},
    optional={
        "period": st.one_of(
            st.sampled_from(["day", "7d", "30d", "month", "6mo", "12mo", "custom"]), odd_text
        ),
        "date": st.one_of(
            days, st.tuples(days, days).map(",".join), odd_text, st.just("2024-01-01,")
        ),
        "metrics": st.one_of(
            st.lists(st.sampled_from(METRICS), min_size=1, max_size=3).map(",".join), odd_text
        ),
        "filters": st.one_of(
            st.sampled_from(
                ["visit:country==DE", "event:page==/blog*", "event:page~(", "x", ";;", "a==b|c"]
            ),
            odd_text,
        ),
        "property": st.one_of(st.sampled_from(DIMENSIONS), odd_text),
        "interval": st.one_of(st.sampled_from(["date", "day", "month", "hour"]), odd_text),
        "compare": st.sampled_from(["previous_period", "nope"]),
        "limit": st.sampled_from(["1", "0", "x", "100000", "-1"]),
        "page": st.sampled_from(["1", "0", "x", "99999999"]),
    },
)


@settings(FUZZ, max_examples=150)
@given(path=st.sampled_from(["aggregate", "timeseries", "breakdown"]), params=v1_params)
def test_fuzz_stats_api_v1(app: App, path: str, params: dict[str, str]) -> None:
    answered_well(app.v1("a.com", path, params))
