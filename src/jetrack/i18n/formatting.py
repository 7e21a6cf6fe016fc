"""Numbers and dates on the server-rendered pages, written the way the current language does."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent, get_currency_name

from jetrack.i18n.catalogs import current


def number(value: float) -> str:
    return format_decimal(value, locale=current().locale)


def percent(value: float) -> str:
    """A share (0.25) as the language writes it: 25%, 25 %."""
    return format_percent(value, locale=current().locale)


def day(value: date | datetime) -> str:
    """A date in the language's medium form (6 Dec 2026, 6. Dez. 2026, ...)."""
    return format_date(value, format="medium", locale=current().locale)


def moment(value: datetime) -> str:
    """A date and time (UTC, as the control store keeps it), medium form."""
    return format_datetime(value, format="medium", locale=current().locale)


def currency_name(code: str) -> str:
    """A currency's name in the current language (Babel's locale data), e.g. Euro, US-Dollar."""
    return get_currency_name(code, locale=current().locale)


def money(cents: int, currency: str) -> str:
    """An amount in cents of `currency` (ISO code, any case): 19,00 €, €19.00."""
    return format_currency(cents / 100, currency.upper(), locale=current().locale)
