"""CSV cells that a spreadsheet shows as text, never runs as a formula (OWASP's rule)."""

from __future__ import annotations

import re
from typing import Any

# A spreadsheet reads a cell starting with one of these as a formula (tab and CR: some
# importers strip them first and then see the formula behind them).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def csv_cell(value: Any) -> Any:
    """`value` as a CSV writer should write it: text that a spreadsheet would run gets a
    leading single quote; numbers, and text that is only a number, stay as they are."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value
