"""seed_demo: a realistic, repeatable demo site in well under a minute."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from jetrack.demo import expected_sessions, seed_demo
from jetrack.sites.sites import find_site
from jetrack.stats.engine import run_query
from jetrack.store.events import rows_as_dicts
from jetrack.store.rollups import build_rollups
from jetrack.store.stores import Stores

NOW = int(datetime(2026, 3, 18, 15, 30, tzinfo=UTC).timestamp())  # a Wednesday afternoon


def test_seed_demo_writes_realistic_traffic(stores: Stores) -> None:
    started = time.monotonic()
    site = seed_demo(stores, owner_email="owner@example.com", visitors_per_day=300, now=NOW)
    assert time.monotonic() - started < 20

    one = stores.events.query(
        "SELECT count() AS events, uniqExact(session_id) AS visits, uniqExact(visitor_id) AS people,"
        " toUnixTimestamp(min(timestamp)) AS first, toUnixTimestamp(max(timestamp)) AS last,"
        " uniqExact(source) AS sources, uniqExact(country_code) AS countries,"
        " uniqExact(pathname) AS pages, uniqExact(browser) AS browsers,"
        " uniqExact(utm_campaign) AS campaigns, uniqExact(language) AS languages,"
        " countIf(name = 'Purchase' AND revenue_amount > 0) AS purchases,"
        " countIf(name = 'engagement' AND engagement_ms > 0 AND scroll_depth > 0) AS engaged,"
        " countIf(region_code != '' AND substring(region_code, 1, 2) != country_code) AS bad_regions"
        " FROM events WHERE site_id = {id:UInt32}",
        {"id": site.id},
    )
    facts = rows_as_dicts(one)[0]
    assert facts["visits"] == expected_sessions(90, 300, NOW)
    assert 100_000 < facts["events"] < 200_000
    assert 0.6 < facts["people"] / facts["visits"] < 0.9  # some visitors come back
    assert (NOW - facts["first"]) / 86400 < 90
    assert facts["last"] <= NOW
    assert facts["sources"] >= 15 and facts["countries"] >= 30 and facts["pages"] >= 15
    assert facts["browsers"] >= 5 and facts["campaigns"] >= 4 and facts["languages"] >= 20
    assert facts["purchases"] > 0 and facts["engaged"] > facts["visits"]
    assert facts["bad_regions"] == 0

    # Through the query engine, as the dashboard reads it.
    answer = run_query(
        stores.events,
        _site(stores, site.domain),
        {
            "site_id": site.domain,
            "metrics": ["visitors", "bounce_rate", "visit_duration"],
            "date_range": "30d",
        },
        now=datetime.fromtimestamp(NOW, UTC),
    )
    visitors, bounce_rate, duration = answer["results"][0]["metrics"]
    assert visitors > 5000
    assert 30 <= bounce_rate <= 60
    assert 30 <= duration <= 600


def test_weekends_are_quieter_and_realtime_is_not_empty(stores: Stores) -> None:
    site = seed_demo(stores, owner_email="owner@example.com", visitors_per_day=200, now=NOW)
    by_weekday = dict(
        stores.events.query(
            "SELECT toDayOfWeek(timestamp) AS d, uniqExact(session_id) FROM events"
            " WHERE site_id = {id:UInt32}"
            " AND timestamp < toStartOfDay(toDateTime({now:UInt32})) - INTERVAL 1 DAY"
            " GROUP BY d",
            {"id": site.id, "now": NOW},
        ).rows
    )
    weekday = sum(by_weekday[d] for d in (1, 2, 3, 4, 5)) / 5
    weekend = (by_weekday[6] + by_weekday[7]) / 2
    assert weekend < 0.8 * weekday
    live = stores.events.query(
        "SELECT uniqExact(session_id) FROM events WHERE site_id = {id:UInt32}"
        " AND timestamp > toDateTime({now:UInt32}) - INTERVAL 30 MINUTE",
        {"id": site.id, "now": NOW},
    )
    assert live.rows[0][0] >= 3


@pytest.mark.slow
def test_seeding_again_replaces_the_demo_events(stores: Stores) -> None:
    first = seed_demo(stores, owner_email="owner@example.com", days=7, visitors_per_day=50, now=NOW)
    again = seed_demo(stores, owner_email="owner@example.com", days=7, visitors_per_day=50, now=NOW)
    assert again.id == first.id
    sessions = stores.events.query(
        "SELECT uniqExact(session_id) FROM events WHERE site_id = {id:UInt32}", {"id": first.id}
    )
    assert sessions.rows[0][0] == expected_sessions(7, 50, NOW)


def test_seeding_again_drops_the_rollups_of_the_old_events(stores: Stores) -> None:
    site = seed_demo(stores, owner_email="owner@example.com", days=3, visitors_per_day=50, now=NOW)
    day = datetime.fromtimestamp(NOW, UTC).date() - timedelta(days=1)
    build_rollups(stores.events, day, min_filtered_visits=1)
    count = "SELECT count() FROM {table:Identifier} WHERE site_id = {id:UInt32}"
    for table in ("visit_rollups", "filter_rollups"):
        assert stores.events.query(count, {"table": table, "id": site.id}).rows[0][0] > 0
    seed_demo(stores, owner_email="owner@example.com", days=3, visitors_per_day=50, now=NOW)
    for table in ("visit_rollups", "filter_rollups"):
        assert stores.events.query(count, {"table": table, "id": site.id}).rows[0][0] == 0


def test_the_demo_has_goals_with_conversions_and_properties(stores: Stores) -> None:
    site = seed_demo(stores, owner_email="owner@example.com", days=7, visitors_per_day=200, now=NOW)
    seed_demo(stores, owner_email="owner@example.com", days=7, visitors_per_day=200, now=NOW)
    info = _site(stores, site.domain)
    moment = datetime.fromtimestamp(NOW, UTC)

    def ask(**query: object) -> dict[str, list[float]]:
        request = {"site_id": site.domain, "date_range": "7d", **query}
        answer = run_query(stores.events, info, request, now=moment)
        return {r["dimensions"][0]: r["metrics"] for r in answer["results"]}

    metrics = ["visitors", "events", "conversion_rate"]
    goals = ask(metrics=metrics, dimensions=["event:goal"])
    # Seeding twice keeps one of each goal; every goal has conversions.
    assert sorted(goals) == sorted(
        [
            "Signup",
            "Signup (plan=pro)",
            "Purchase",
            "Visit /pricing",
            "Outbound Link: Click",
            "File Download",
            "Form: Submission",
            "404",
        ]
    )
    assert all(visitors > 0 and 0 < rate < 100 for visitors, _, rate in goals.values())
    assert goals["Signup (plan=pro)"][0] < goals["Signup"][0]
    files = ask(
        metrics=metrics,
        dimensions=["event:props:url"],
        filters=[["is", "event:goal", ["File Download"]]],
    )
    assert len(files) == 3 and all(url.endswith((".pdf", ".gz", ".docx")) for url in files)
    plans = ask(
        metrics=["visitors"],
        dimensions=["event:props:plan"],
        filters=[["is", "event:goal", ["Signup"]]],
    )
    assert set(plans) == {"free", "pro"}
    missing = ask(
        metrics=["visitors"],
        dimensions=["event:props:path"],
        filters=[["is", "event:goal", ["404"]]],
    )
    assert missing and all(path.startswith("/") for path in missing)
    # The missing pages are where those visits landed.
    entries = ask(metrics=["visitors"], dimensions=["visit:entry_page"])
    assert set(missing) <= set(entries)


def test_purchases_carry_revenue_in_one_currency_by_plan(stores: Stores) -> None:
    site = seed_demo(
        stores, owner_email="owner@example.com", days=30, visitors_per_day=300, now=NOW
    )
    rows = stores.events.query(
        "SELECT props['plan'] AS plan, props['billing'] AS billing, revenue_currency,"
        " groupUniqArray(toFloat64(revenue_amount)) AS amounts, count() AS purchases"
        " FROM events WHERE site_id = {id:UInt32} AND name = 'Purchase'"
        " GROUP BY plan, billing, revenue_currency ORDER BY plan, billing",
        {"id": site.id},
    ).rows
    found = {
        (plan, billing, currency): (amounts, n) for plan, billing, currency, amounts, n in rows
    }
    prices = {"starter": 9.0, "pro": 19.0, "business": 49.0}
    assert {(plan, billing) for plan, billing, _ in found} == {
        (plan, billing) for plan in prices for billing in ("monthly", "yearly")
    }
    for (plan, billing, currency), (amounts, purchases) in found.items():
        assert currency == "EUR" and purchases > 0
        assert amounts == [prices[plan] * (10 if billing == "yearly" else 1)]
    others = stores.events.query(
        "SELECT count() FROM events WHERE site_id = {id:UInt32} AND name != 'Purchase'"
        " AND (revenue_amount != 0 OR revenue_currency != '')",
        {"id": site.id},
    )
    assert others.rows[0][0] == 0


def test_languages_do_not_mirror_countries(stores: Stores) -> None:
    """Each country has a mix of languages (English nearly everywhere, the local languages
    of multilingual countries), so no language's visitors equal a country's."""
    site = seed_demo(
        stores, owner_email="owner@example.com", days=30, visitors_per_day=400, now=NOW
    )
    rows = stores.events.query(
        "SELECT country_code, language, uniq(visitor_id) FROM events"
        " WHERE site_id = {id:UInt32} AND name = 'pageview' GROUP BY country_code, language",
        {"id": site.id},
    ).rows
    mix: dict[str, dict[str, int]] = {}
    for country, language, visitors in rows:
        mix.setdefault(country, {})[language] = visitors

    def shares(country: str) -> dict[str, float]:
        total = sum(mix[country].values())
        return {language: n / total for language, n in mix[country].items()}

    us, ch, ca, india, de = (shares(c) for c in ("US", "CH", "CA", "IN", "DE"))
    assert 0.75 < us["en"] < 0.95 and 0.04 < us["es"] < 0.15 and "zh" in us
    assert {"de", "fr", "it", "en"} <= set(ch) and ch["fr"] > 0.08 and ch["it"] > 0.02
    assert 0.6 < ca["en"] < 0.9 and ca["fr"] > 0.1
    assert india["en"] > 0.6 and 0.08 < india["hi"] < 0.3
    assert de["de"] > 0.7 and de["en"] > 0.08
    # No country with a few hundred visitors speaks one language only; most have their own mix.
    assert all(len(languages) >= 2 for languages in mix.values() if sum(languages.values()) > 300)
    assert len({tuple(sorted(languages)) for languages in mix.values()}) > 20
    # The Languages and Countries reports differ: English is far above the US.
    by_language: dict[str, int] = {}
    for languages in mix.values():
        for language, n in languages.items():
            by_language[language] = by_language.get(language, 0) + n
    assert by_language["en"] > 1.5 * sum(mix["US"].values())
    # Languages are primary subtags, as ingestion stores them (enrich/language.py).
    assert all(language.isalpha() and language.islower() for language in by_language)


def _site(stores: Stores, domain: str) -> object:
    from jetrack.stats.query import SiteInfo

    with stores.control.session() as session:
        site = find_site(session, domain)
        assert site is not None
        return SiteInfo.from_site(site)


def test_the_demo_has_a_funnel_that_converts(stores: Stores) -> None:
    from jetrack.sites.funnels import list_funnels, step_names
    from jetrack.sites.sites import find_site
    from jetrack.stats.funnel import FunnelInfo, run_funnel

    site = seed_demo(stores, owner_email="owner@example.com", days=7, visitors_per_day=200, now=NOW)
    seed_demo(stores, owner_email="owner@example.com", days=7, visitors_per_day=200, now=NOW)
    with stores.control.session() as session:
        found = find_site(session, site.domain)
        assert found is not None
        funnels = list_funnels(session, found)
        # Seeding twice keeps one.
        assert [(f.name, step_names(f)) for f in funnels] == [
            ("Pricing to signup", ["Visit /pricing", "Signup"])
        ]
        funnel = FunnelInfo.from_funnel(funnels[0])
    info = _site(stores, site.domain)
    request = {"site_id": site.domain, "funnel_id": funnel.id, "date_range": "7d"}
    answer = run_funnel(stores.events, info, funnel, request, now=datetime.fromtimestamp(NOW, UTC))
    pricing, signup = (step["visitors"] for step in answer["steps"])
    # Believable: a fair share reaches /pricing, a few of them sign up in the same visit.
    assert 0.1 < pricing / answer["all_visitors"] < 0.6
    assert 0 < signup < pricing * 0.2
