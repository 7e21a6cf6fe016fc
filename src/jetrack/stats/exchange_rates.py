"""Exchange rates for revenue sent in another currency than its goal's: one dated set of
reference rates, shipped with the package and replaceable with `jetrack rates update FILE`.

Nothing here reaches the network. The rates in use are the file `exchange-rates.json` of
the data dir when an operator installed one, else the packaged set (stats/data/, see its
README for the source and date). Reading formats: Jetrack's JSON (and any JSON with
`base`, `date` and `rates`, as Frankfurter and similar services answer) and the European
Central Bank's CSV files, the daily one and the history (its newest day)."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

RATES_FILE = "exchange-rates.json"
_CODE = re.compile(r"^[A-Z]{3}$")
MAX_INPUT_BYTES = 50_000_000  # the ECB's full history CSV is ~2 MB


class RatesError(ValueError):
    """A rates file that cannot be read; the message says why."""


@dataclass(frozen=True)
class ExchangeRates:
    """Units of each currency for one unit of `base` (whose own rate is 1), on `day`."""

    day: date
    base: str
    rates: Mapping[str, float] = field(hash=False)
    source: str = ""

    def factor(self, source: str, target: str) -> float | None:
        """What one unit of `source` is worth in `target`; None without both rates."""
        if source == target:
            return 1.0
        if source not in self.rates or target not in self.rates:
            return None
        return self.rates[target] / self.rates[source]

    def factors_to(self, target: str) -> dict[str, float]:
        """Every currency this set can convert to `target`, with its factor."""
        out = {target: 1.0}
        if target in self.rates:
            out |= {code: self.rates[target] / rate for code, rate in self.rates.items()}
        return out

    def to_json(self) -> str:
        body = {
            "date": self.day.isoformat(),
            "base": self.base,
            "source": self.source,
            "rates": dict(sorted(self.rates.items())),
        }
        return json.dumps(body, indent=2) + "\n"


def _rate(code: str, value: Any, where: str) -> float:
    if not _CODE.match(code):
        raise RatesError(f"{where}: {code!r} is not a three-letter ISO 4217 code")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RatesError(f"{where}: the rate of {code} is not a number: {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(number) or number <= 0:
        raise RatesError(f"{where}: the rate of {code} must be a positive number")
    return number


def _checked(day: date, base: str, rates: dict[str, float], source: str) -> ExchangeRates:
    if not _CODE.match(base):
        raise RatesError(f"base: {base!r} is not a three-letter ISO 4217 code")
    rates = {code: rate for code, rate in rates.items() if code != base}
    if not rates:
        raise RatesError("rates: no exchange rate found")
    return ExchangeRates(day, base, {base: 1.0, **rates}, source)


def _parse_json(data: Any, default_source: str) -> ExchangeRates:
    if not isinstance(data, dict):
        raise RatesError("the JSON must be an object with date, base and rates")
    try:
        day = date.fromisoformat(str(data.get("date")))
    except ValueError:
        raise RatesError("date: must be a calendar date (YYYY-MM-DD)") from None
    raw = data.get("rates")
    if not isinstance(raw, dict) or not raw:
        raise RatesError("rates: must be an object of currency codes and rates")
    rates = {str(code): _rate(str(code), value, "rates") for code, value in raw.items()}
    base = str(data.get("base") or "EUR")
    return _checked(day, base, rates, str(data.get("source") or default_source))


def _ecb_day(text: str) -> date:
    text = text.strip()
    for layout in ("%Y-%m-%d", "%d %B %Y"):
        try:
            return datetime.strptime(text, layout).date()
        except ValueError:
            continue
    raise RatesError(f"Date: {text!r} is not a date (2025-04-25 or 25 April 2025)")


def _parse_ecb_csv(text: str, default_source: str) -> ExchangeRates:
    rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    rows = [row for row in rows if any(row)]
    if len(rows) < 2 or not rows[0] or rows[0][0] != "Date":
        raise RatesError(
            "a CSV must be the ECB's: a header 'Date, USD, JPY, ...' then a row per day"
        )
    header = rows[0]
    # The history file lists the newest day first; take the newest whatever the order.
    newest = max(rows[1:], key=lambda row: _ecb_day(row[0]))
    rates = {
        code: _rate(code, value, f"{newest[0]}")
        for code, value in zip(header[1:], newest[1:], strict=False)
        if code and value and value != "N/A"
    }
    return _checked(_ecb_day(newest[0]), "EUR", rates, default_source)


def parse_rates(text: str, default_source: str = "") -> ExchangeRates:
    """Rates from a JSON document or an ECB CSV file (its newest day)."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise RatesError(f"not valid JSON: {exc.msg} (line {exc.lineno})") from None
        return _parse_json(data, default_source)
    return _parse_ecb_csv(stripped, default_source or "European Central Bank reference rates")


@cache
def packaged() -> ExchangeRates:
    """The rates shipped with this version of Jetrack."""
    text = resources.files("jetrack.stats").joinpath("data", RATES_FILE).read_text()
    return parse_rates(text)


_read: dict[Path, tuple[float, ExchangeRates]] = {}


def current(data_dir: Path | None) -> ExchangeRates:
    """The rates in use: the data dir's file if an operator installed one, else the
    packaged set. Read once per change of the file (its modification time)."""
    if data_dir is None:
        return packaged()
    path = data_dir / RATES_FILE
    try:
        stamp = path.stat().st_mtime
    except FileNotFoundError:
        return packaged()
    known = _read.get(path)
    if known is not None and known[0] == stamp:
        return known[1]
    try:
        rates = parse_rates(path.read_text())
    except (OSError, RatesError):
        # `install` checked it; a file edited by hand into nonsense falls back, never a 500.
        return packaged()
    _read[path] = (stamp, rates)
    return rates


def read_file(path: Path) -> ExchangeRates:
    """Rates from a file an operator names (jetrack rates update FILE)."""
    try:
        if path.stat().st_size > MAX_INPUT_BYTES:
            raise RatesError(f"{path} is larger than {MAX_INPUT_BYTES // 1_000_000} MB")
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RatesError(f"cannot read {path}: {exc}") from None
    return parse_rates(text, default_source=path.name)


def install(data_dir: Path, rates: ExchangeRates) -> Path:
    """Write `rates` as the data dir's rates file (atomically: a running server reads the
    old file or the new one, never half of it)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / RATES_FILE
    handle, temporary = tempfile.mkstemp(prefix=".rates-", dir=data_dir)
    try:
        with os.fdopen(handle, "w") as out:
            out.write(rates.to_json())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
