"""The unit's calendar: its time zone, working hours, holidays (country and categories) and language.

`unit_calendar(settings, profile)` is the one place that decides them (docs/profile.md, *Calendar and
language*): a variable set explicitly in the environment (`TIMEZONE`, `BOT_LANGUAGE`, `HOLIDAY_CATEGORIES`)
wins; otherwise the unit profile's `timezone`, `language`, `holidays` and `working_hours`. Everything that
needs them reads a `UnitCalendar` (`ctx.cal`, `svc.calendar()`); the module-level holiday functions serve
recurrence rules that carry their own country and categories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from storage.profile import Profile
from storage.settings import Settings

WINDOW_START = time(8, 0)
WINDOW_END = time(16, 0)
PUBLIC = ("public",)


@lru_cache(maxsize=64)
def _holidays(country: str, year: int, categories: tuple[str, ...]) -> holidays.HolidayBase:
    return holidays.country_holidays(country, years=year, categories=categories)


def is_holiday(day: date, categories: tuple[str, ...] = PUBLIC, country: str = "DK") -> bool:
    return day in _holidays(country, day.year, tuple(categories))


def is_working_day(day: date, categories: tuple[str, ...] = PUBLIC, country: str = "DK") -> bool:
    return day.weekday() < 5 and not is_holiday(day, categories, country)


def next_working_day(day: date, categories: tuple[str, ...] = PUBLIC, country: str = "DK") -> date:
    """The first working day on or after `day`."""
    while not is_working_day(day, categories, country):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class UnitCalendar:
    tz: ZoneInfo
    categories: tuple[str, ...] = PUBLIC
    country: str = "DK"
    start: time = WINDOW_START
    end: time = WINDOW_END
    lang: str = "da"

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.tz)

    def at(self, day: date, at: time | None = None) -> datetime:
        """`at` (default: the working day's start) on a local day, as aware UTC."""
        return datetime.combine(day, at or self.start, tzinfo=self.tz).astimezone(ZoneInfo("UTC"))

    def is_holiday(self, day: date) -> bool:
        return is_holiday(day, self.categories, self.country)

    def is_working_day(self, day: date) -> bool:
        return is_working_day(day, self.categories, self.country)

    def next_working_day(self, day: date) -> date:
        return next_working_day(day, self.categories, self.country)

    def delivery_time(self, instant: datetime) -> datetime:
        """`instant` if it falls in a working day's working hours (local), else the next working day's start."""
        local = self.local(instant)
        day = local.date()
        if self.is_working_day(day):
            if local.time() < self.start:
                return self.at(day)
            if local.time() < self.end:
                return instant
        return self.at(self.next_working_day(day + timedelta(days=1)))

    def next_working_morning(self, instant: datetime) -> datetime:
        """The working day's start on the first working day after the day of `instant`."""
        return self.at(self.next_working_day(self.local(instant).date() + timedelta(days=1)))

    def month_due(self, instant: datetime, within: timedelta | None = None) -> date | None:
        """The first day of `instant`'s month when a monthly job is due at `instant`: from the start of the
        month's first working day — for the rest of the month, or with `within` only that long after it."""
        local = self.local(instant)
        month = local.date().replace(day=1)
        first = self.next_working_day(month)
        if local.date() < first or (local.date() == first and local.time() < self.start):
            return None
        if within is not None and local.date() > first + within:
            return None
        return month


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def unit_calendar(settings: Settings, profile: Profile) -> UnitCalendar:
    """The unit's calendar and language: an environment variable set explicitly overrides the profile."""
    explicit = settings.model_fields_set
    tz = settings.timezone if "timezone" in explicit else profile.timezone
    lang = settings.bot_language if "bot_language" in explicit else profile.language
    categories = (settings.holiday_categories if "holiday_categories" in explicit
                  else profile.holidays.categories)
    return UnitCalendar(tz=ZoneInfo(tz), categories=tuple(categories), country=profile.holidays.country,
                        start=_hhmm(profile.working_hours.start), end=_hhmm(profile.working_hours.end), lang=lang)

