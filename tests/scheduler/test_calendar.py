"""Working days, delivery windows and Danish holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from commands.time.calendar import UnitCalendar, is_working_day

CPH = ZoneInfo("Europe/Copenhagen")
delivery_time = UnitCalendar(CPH).delivery_time  # Copenhagen's defaults: 08:00–16:00, Danish public holidays
next_working_morning = UnitCalendar(CPH).next_working_morning


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=CPH)


@pytest.mark.parametrize("day", [date(2026, 5, 14), date(2026, 5, 25), date(2026, 12, 25), date(2026, 12, 26),
                                 date(2027, 1, 1), date(2026, 4, 2), date(2026, 4, 3), date(2026, 4, 6)])
def test_danish_public_holidays_are_not_working_days(day):
    assert not is_working_day(day)


def test_store_bededag_is_gone_and_optional_days_are_configurable():
    assert is_working_day(date(2026, 5, 1))  # Store Bededag was abolished from 2024; 1 May is optional
    assert not is_working_day(date(2026, 5, 1), ("public", "optional"))
    assert is_working_day(date(2026, 12, 24)) and not is_working_day(date(2026, 12, 24), ("public", "optional"))


def test_inside_the_window_is_now():
    instant = local(2026, 11, 24, 10, 30).astimezone(UTC)
    assert delivery_time(instant) == instant


def test_evening_waits_for_next_morning_and_weekend_for_monday():
    assert delivery_time(local(2026, 11, 24, 16, 0)) == local(2026, 11, 25, 8, 0)
    assert delivery_time(local(2026, 11, 28, 11, 0)) == local(2026, 11, 30, 8, 0)  # Saturday → Monday
    assert delivery_time(local(2026, 11, 24, 6, 0)) == local(2026, 11, 24, 8, 0)


def test_christmas_day_reminder_arrives_on_the_next_working_morning():
    assert delivery_time(local(2026, 12, 25, 9, 0)) == local(2026, 12, 28, 8, 0)


def test_window_keeps_local_time_across_daylight_saving_changes():
    # Friday before the October change (CEST) → Monday after it (CET): still 08:00 local.
    monday = delivery_time(local(2026, 10, 23, 17, 0))
    assert monday == local(2026, 10, 26, 8, 0)
    assert monday.astimezone(UTC).hour == 7
    spring = delivery_time(local(2026, 3, 27, 17, 0))
    assert spring == local(2026, 3, 30, 8, 0) and spring.astimezone(UTC).hour == 6


def test_next_working_morning_skips_easter():
    assert next_working_morning(local(2026, 4, 1, 12, 0)) == local(2026, 4, 7, 8, 0)
