"""Numbers and dates on the server-rendered pages, written the way the current language does."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from jetrack.i18n.catalogs import current_language


def number(value: float) -> str:
    return format_decimal(value, locale=current_language())


def day(value: date | datetime) -> str:
    """A date in the language's medium form (6 Dec 2026, 6. Dez. 2026, ...)."""
    return format_date(value, format="medium", locale=current_language())


def moment(value: datetime) -> str:
    """A date and time (UTC, as the control store keeps it), medium form."""
    return format_datetime(value, format="medium", locale=current_language())
