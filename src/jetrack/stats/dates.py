"""Date ranges in the site's time zone: shorthands, ISO ranges, comparisons, bucket labels."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from jetrack.stats.errors import QueryError
from jetrack.stats.query import DateRange

# Relative ranges, Plausible's: `Nd` is the N whole days before today, `Nmo` the N whole
# calendar months before this one (today and this month are not in them).
RELATIVE_RANGE = re.compile(r"^([0-9]{1,9})(d|mo)$")
MAX_RELATIVE = {"d": 5000, "mo": 100}
NAMED_RANGES = ("day", "month", "year", "all")
# time:minute is for realtime views: at most two days of minutes in one answer.
MAX_MINUTE_SPAN = timedelta(days=2)
# Time buckets one answer may have (rows of a time dimension, meta.time_labels): a year by
# the hour is 8,784, 27 years by the day 9,862. More is refused before any SQL or label.
MAX_TIME_BUCKETS = 10_000
# Dates a request may name. Events exist from 1970 on (ClickHouse DateTime); the margin
# keeps every range, comparison and label computable without overflowing a date.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2299, 12, 31)


def local_today(timezone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def local_midnight_utc(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def days_range(first: date, last: date, timezone: str) -> DateRange:
    if last < first:
        raise QueryError(f"date_range: the first day {first} is after the last day {last}")
    start = local_midnight_utc(first, timezone)
    end = local_midnight_utc(last + timedelta(days=1), timezone)
    return DateRange(start, end, first, last, timezone)


def instants_range(start: datetime, end_inclusive: datetime, timezone: str) -> DateRange:
    """A datetime range; the end is inclusive to the second, as clients write it."""
    if end_inclusive < start:
        raise QueryError(f"date_range: the start {start.isoformat()} is after the end")
    zone = ZoneInfo(timezone)
    end = end_inclusive.replace(microsecond=0) + timedelta(seconds=1)
    return DateRange(
        start.astimezone(UTC),
        end.astimezone(UTC),
        start.astimezone(zone).date(),
        (end - timedelta(microseconds=1)).astimezone(zone).date(),
        timezone,
    )


def month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def month_end(day: date) -> date:
    return month_start(day, -1) - timedelta(days=1)


def shorthand_days(
    shorthand: str, today: date, first_data_day: date | None = None
) -> tuple[date, date]:
    """(first, last) local days of a shorthand relative to `today`; `all` starts on the
    site's first day with data (today without one)."""
    if shorthand == "day":
        return today, today
    if shorthand == "month":
        return month_start(today), month_end(today)
    if shorthand == "year":
        return date(today.year, 1, 1), date(today.year, 12, 31)
    if shorthand == "all":
        first = first_data_day
        return (min(first, today) if first else today), today
    match = RELATIVE_RANGE.match(shorthand)
    if match is None:
        raise QueryError(
            f"date_range: {shorthand!r} is not a date range; use day, month, year, all, Nd"
            " (the N days before today) or Nmo (the N months before this one)"
        )
    count, unit = int(match.group(1)), match.group(2)
    if not 1 <= count <= MAX_RELATIVE[unit]:
        raise QueryError(
            f"date_range: {shorthand!r} is out of range; use 1d to {MAX_RELATIVE['d']}d"
            f" or 1mo to {MAX_RELATIVE['mo']}mo"
        )
    if unit == "d":
        return today - timedelta(days=count), today - timedelta(days=1)
    return month_start(today, count), month_start(today) - timedelta(days=1)


def parse_day(text: str, where: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise QueryError(f"{where}: {text!r} is not a calendar date (YYYY-MM-DD)") from None
    return _supported(day, where)


def parse_instant(text: str, timezone: str, where: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise QueryError(f"{where}: {text!r} is not an ISO 8601 datetime") from None
    _supported(value.date(), where)
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value


def _supported(day: date, where: str) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise QueryError(
            f"{where}: {day.isoformat()} is outside the supported dates,"
            f" {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"
        )
    return day


def resolve(
    value: str | list[str],
    timezone: str,
    now: datetime,
    first_data_day: date | None = None,
) -> DateRange:
    """The request's `date_range` as a DateRange in the site's time zone."""
    if isinstance(value, str):
        first, last = shorthand_days(value, local_today(timezone, now), first_data_day)
        return days_range(first, last, timezone)
    if all(len(part) == 10 for part in value):
        first = parse_day(value[0], "date_range[0]")
        last = parse_day(value[1], "date_range[1]")
        return days_range(first, last, timezone)
    start = parse_instant(value[0], timezone, "date_range[0]")
    end = parse_instant(value[1], timezone, "date_range[1]")
    return instants_range(start, end, timezone)


def _same_weekday_before(day: date, weekday: int) -> date:
    return day - timedelta(days=(day.weekday() - weekday) % 7)


def _years_back(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def comparison_range(
    mode: str, main: DateRange, match_day_of_week: bool, custom: list[str] | None = None
) -> DateRange:
    """The range to compare `main` with; the same length unless `custom`."""
    if mode == "custom":
        if not custom:
            raise QueryError("include.comparisons.date_range: required when mode is custom")
        first = parse_day(custom[0], "include.comparisons.date_range[0]")
        last = parse_day(custom[1], "include.comparisons.date_range[1]")
        return days_range(first, last, main.timezone)
    if not _whole_days(main):
        span = main.end - main.start
        shift = span if mode == "previous_period" else main.start - _instant_years_back(main.start)
        return instants_range(main.start - shift, main.end - shift - timedelta(seconds=1), "UTC")
    length = (main.last_day - main.first_day).days + 1
    if mode == "previous_period":
        first = main.first_day - timedelta(days=length)
    else:
        first = _years_back(main.first_day, 1)
    if match_day_of_week:
        first = _same_weekday_before(first, main.first_day.weekday())
    return days_range(first, first + timedelta(days=length - 1), main.timezone)


def _instant_years_back(moment: datetime) -> datetime:
    day = _years_back(moment.date(), 1)
    return moment.replace(year=day.year, month=day.month, day=day.day)


def _whole_days(span: DateRange) -> bool:
    return span.start == local_midnight_utc(span.first_day, span.timezone) and (
        span.end == local_midnight_utc(span.last_day + timedelta(days=1), span.timezone)
    )


def auto_bucket(span: DateRange) -> str:
    """The bucket the plain `time` dimension means for this range."""
    days = (span.last_day - span.first_day).days + 1
    if days <= 1:
        return "time:hour"
    if days <= 40:
        return "time:day"
    if days <= 100:
        return "time:week"
    return "time:month"


def bucket_count(span: DateRange, bucket: str) -> int:
    """How many `bucket`s the range has (at most one more than time_labels gives)."""
    if bucket == "time:minute":
        return int((span.end - span.start).total_seconds()) // 60 + 1
    if bucket == "time:hour":
        return int((span.end - span.start).total_seconds()) // 3600 + 2
    days = (span.last_day - span.first_day).days + 1
    if bucket == "time:day":
        return days
    if bucket == "time:week":
        return days // 7 + 2
    return (span.last_day.year - span.first_day.year) * 12 + span.last_day.month + 1


def time_labels(span: DateRange, bucket: str) -> list[str]:
    """Every bucket label of the range, as the SQL formats them, in order."""
    labels: list[str] = []
    if bucket == "time:minute":
        zone = ZoneInfo(span.timezone)
        moment = span.start.replace(second=0, microsecond=0)
        while moment < span.end:
            labels.append(moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:00"))
            moment += timedelta(minutes=1)
        return labels
    if bucket == "time:hour":
        zone = ZoneInfo(span.timezone)
        moments = []
        moment = span.start
        while moment < span.end:
            moments.append(moment)
            moment += timedelta(hours=1)
        moments.append(span.end - timedelta(seconds=1))
        for moment in moments:
            label = moment.astimezone(zone).strftime("%Y-%m-%d %H:00:00")
            if label not in labels[-2:]:
                labels.append(label)
        return labels
    day = span.first_day
    while day <= span.last_day:
        if bucket == "time:day":
            labels.append(day.isoformat())
            day += timedelta(days=1)
        elif bucket == "time:week":
            labels.append(max(day - timedelta(days=day.weekday()), span.first_day).isoformat())
            day = day - timedelta(days=day.weekday()) + timedelta(days=7)
        else:
            labels.append(max(day.replace(day=1), span.first_day).isoformat())
            day = month_start(day, -1)
    return labels
