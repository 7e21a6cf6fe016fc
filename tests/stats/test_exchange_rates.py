"""Exchange rates: the ECB's CSV files and JSON read into one dated set, the packaged set,
and the data dir's set an operator installs (`jetrack rates update`)."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest

from jetrack.stats import exchange_rates
from jetrack.stats.exchange_rates import (
    RATES_FILE,
    ExchangeRates,
    RatesError,
    current,
    install,
    packaged,
    parse_rates,
    read_file,
)

# The ECB's daily file (eurofxref.csv): spaces after commas, a trailing comma, a long date.
DAILY = """Date, USD, JPY, BGN, CZK, DKK, GBP, CHF,
25 April 2025, 1.1357, 162.80, 1.9558, 24.929, 7.4656, 0.85310, 0.9421,
"""
# Its history (eurofxref-hist.csv): newest day first, N/A for currencies no longer quoted.
HISTORY = """Date,USD,JPY,CYP,GBP,
2025-04-25,1.1357,162.8,N/A,0.8531,
2025-04-24,1.1376,162.16,N/A,0.855,
"""


def test_the_ecb_daily_file() -> None:
    rates = parse_rates(DAILY)
    assert rates.day == date(2025, 4, 25) and rates.base == "EUR"
    assert rates.rates == {"EUR": 1.0, "USD": 1.1357, "JPY": 162.8, "BGN": 1.9558,
                           "CZK": 24.929, "DKK": 7.4656, "GBP": 0.8531, "CHF": 0.9421}  # fmt: skip
    assert rates.source == "European Central Bank reference rates"


def test_the_ecb_history_gives_its_newest_day() -> None:
    rates = parse_rates(HISTORY)
    assert (rates.day, dict(rates.rates)) == (
        date(2025, 4, 25), {"EUR": 1.0, "USD": 1.1357, "JPY": 162.8, "GBP": 0.8531},
    )  # fmt: skip
    # Rows in any order: the newest wins.
    lines = HISTORY.splitlines()
    assert parse_rates("\n".join([lines[0], lines[2], lines[1]])).day == date(2025, 4, 25)


def test_json_with_any_base_converts_through_it() -> None:
    # A service's answer in US dollars (Frankfurter's shape).
    rates = parse_rates('{"amount": 1.0, "base": "USD", "date": "2025-04-25",'
                        ' "rates": {"EUR": 0.88052, "JPY": 143.35}}')  # fmt: skip
    assert rates.base == "USD" and rates.rates["USD"] == 1.0
    assert rates.factor("USD", "EUR") == pytest.approx(0.88052)
    assert rates.factor("EUR", "JPY") == pytest.approx(143.35 / 0.88052)
    assert rates.factor("GBP", "EUR") is None  # unknown: such amounts are left out
    assert rates.factor("GBP", "GBP") == 1.0
    assert rates.factors_to("EUR") == pytest.approx(
        {"EUR": 1.0, "USD": 0.88052, "JPY": 0.88052 / 143.35}
    )


def test_our_json_round_trips() -> None:
    rates = ExchangeRates(date(2025, 4, 25), "EUR", {"EUR": 1.0, "USD": 1.1357}, "ECB")
    assert parse_rates(rates.to_json()) == rates


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "a CSV must be the ECB's"),
        ("Currency,Rate\nUSD,1.1\n", "a CSV must be the ECB's"),
        ("Date, USD\nyesterday, 1.1\n", "Date: 'yesterday' is not a date"),
        ("Date, USD\n25 April 2025, -1\n", "the rate of USD must be a positive number"),
        ("Date, usd\n25 April 2025, 1.1\n", "'usd' is not a three-letter ISO 4217 code"),
        ("Date, USD\n25 April 2025, N/A\n", "rates: no exchange rate found"),
        ('{"date": "2025-04-25", "rates": {"USD": "lots"}}', "the rate of USD is not a number"),
        ('{"date": "2025-04-25", "rates": {"USD": true}}', "must be a positive number"),
        ('{"date": "2025-13-01", "rates": {"USD": 1.1}}', "date: must be a calendar date"),
        ('{"date": "2025-04-25", "rates": []}', "rates: must be an object"),
        ('{"date": "2025-04-25", "base": "euro", "rates": {"USD": 1}}', "base: 'euro' is not"),
        ("{nope", "not valid JSON"),
    ],
)
def test_files_that_are_not_rates_are_refused(text: str, message: str) -> None:
    with pytest.raises(RatesError, match=re.escape(message)):
        parse_rates(text)


def test_the_packaged_rates_are_the_ecb_row_of_their_readme() -> None:
    rates = packaged()
    assert (rates.day, rates.base, len(rates.rates)) == (date(2025, 4, 25), "EUR", 31)
    assert (rates.rates["USD"], rates.rates["JPY"], rates.rates["GBP"]) == (1.1357, 162.8, 0.8531)
    readme = (Path(exchange_rates.__file__).parent / "data" / "README.md").read_text()
    row = re.search(r"```\n(Date,.*?\n2025-04-25,.*?)\n```", readme, re.S)
    assert row is not None
    assert parse_rates(row.group(1)).rates == rates.rates


def test_an_installed_file_wins_and_is_read_again_when_it_changes(tmp_path: Path) -> None:
    assert current(tmp_path) == packaged() and current(None) == packaged()
    first = ExchangeRates(date(2026, 1, 2), "EUR", {"EUR": 1.0, "USD": 2.0}, "test")
    path = install(tmp_path, first)
    assert path == tmp_path / RATES_FILE and oct(path.stat().st_mode & 0o777) == "0o600"
    assert current(tmp_path) == first
    second = ExchangeRates(date(2026, 1, 5), "EUR", {"EUR": 1.0, "USD": 3.0}, "test")
    install(tmp_path, second)
    os.utime(path, (1, 2_000_000_000))  # a new modification time, even within one tick
    assert current(tmp_path) == second
    assert [p.name for p in tmp_path.iterdir()] == [RATES_FILE]  # no temporary file left


def test_a_file_spoiled_by_hand_falls_back_to_the_packaged_rates(tmp_path: Path) -> None:
    (tmp_path / RATES_FILE).write_text("not rates")
    assert current(tmp_path) == packaged()


def test_read_file_names_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(RatesError, match="cannot read"):
        read_file(tmp_path / "missing.csv")
    (tmp_path / "eurofxref.csv").write_text(DAILY)
    assert read_file(tmp_path / "eurofxref.csv").rates["USD"] == 1.1357
