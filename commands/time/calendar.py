"""Working days and delivery windows in Europe/Copenhagen, with Danish public holidays."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

WINDOW_START = time(8, 0)
WINDOW_END = time(16, 0)


@lru_cache(maxsize=64)
def _danish(year: int, categories: tuple[str, ...]) -> holidays.HolidayBase:
    return holidays.country_holidays("DK", years=year, categories=categories)


def is_holiday(day: date, categories: tuple[str, ...] = ("public",)) -> bool:
    return day in _danish(day.year, categories)


def is_working_day(day: date, categories: tuple[str, ...] = ("public",)) -> bool:
    return day.weekday() < 5 and not is_holiday(day, categories)


def next_working_day(day: date, categories: tuple[str, ...] = ("public",)) -> date:
    """The first working day on or after `day`."""
    while not is_working_day(day, categories):
        day += timedelta(days=1)
    return day


def _at(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(ZoneInfo("UTC"))


def delivery_time(instant: datetime, tz: ZoneInfo, categories: tuple[str, ...] = ("public",)) -> datetime:
    """`instant` if it falls in a working day's 08:00–16:00 (local), else the next window's opening."""
    local = instant.astimezone(tz)
    day = local.date()
    if is_working_day(day, categories):
        if local.time() < WINDOW_START:
            return _at(day, WINDOW_START, tz)
        if local.time() < WINDOW_END:
            return instant
    return _at(next_working_day(day + timedelta(days=1), categories), WINDOW_START, tz)


def month_due(instant: datetime, tz: ZoneInfo, categories: tuple[str, ...] = ("public",),
              within: timedelta | None = None) -> date | None:
    """The first day of `instant`'s month when a monthly job is due at `instant`: from 08:00 local on the
    month's first working day — for the rest of the month, or with `within` only that long after that day."""
    local = instant.astimezone(tz)
    month = local.date().replace(day=1)
    first = next_working_day(month, categories)
    if local.date() < first or (local.date() == first and local.time() < WINDOW_START):
        return None
    if within is not None and local.date() > first + within:
        return None
    return month


def next_working_morning(instant: datetime, tz: ZoneInfo, categories: tuple[str, ...] = ("public",)) -> datetime:
    """08:00 local on the first working day after the day of `instant`."""
    day = instant.astimezone(tz).date() + timedelta(days=1)
    return _at(next_working_day(day, categories), WINDOW_START, tz)
