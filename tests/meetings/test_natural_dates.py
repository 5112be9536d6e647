"""Natural dates for ad hoc meetings, in Danish and English: understood when clear, refused when not."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from commands.errors import UsageError
from commands.parsing import local_datetime, natural_datetime

CPH = ZoneInfo("Europe/Copenhagen")
MONDAY_10 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 10:00 in Copenhagen


@pytest.mark.parametrize(("raw", "expected"), [
    ("tomorrow 14:00", (2026, 11, 24, 14, 0)),
    ("i morgen 14:00", (2026, 11, 24, 14, 0)),
    ("I MORGEN kl. 14", (2026, 11, 24, 14, 0)),
    ("imorgen 9.30", (2026, 11, 24, 9, 30)),
    ("i overmorgen 08:15", (2026, 11, 25, 8, 15)),
    ("today 16:00", (2026, 11, 23, 16, 0)),
    ("tirsdag 9:30", (2026, 11, 24, 9, 30)),
    ("fredag kl 10", (2026, 11, 27, 10, 0)),
    ("sunday 10:00", (2026, 11, 29, 10, 0)),
    ("2026-12-01 09:30", (2026, 12, 1, 9, 30)),
    ("2026-12-01T09:30", (2026, 12, 1, 9, 30)),
    ("01.12.2026 09:30", (2026, 12, 1, 9, 30)),
    ("1. december 14:00", (2026, 12, 1, 14, 0)),
    ("december 1 14:00", (2026, 12, 1, 14, 0)),
    ("3 jan 10:00", (2027, 1, 3, 10, 0)),  # no year: the next 3 January
])
def test_understood(raw, expected):
    assert natural_datetime(raw, CPH, MONDAY_10, "when") == datetime(*expected, tzinfo=CPH).astimezone(UTC)


def test_mandag_on_a_tuesday_is_the_coming_monday():
    tuesday = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert natural_datetime("mandag 9:30", CPH, tuesday, "when") == datetime(2026, 11, 30, 9, 30, tzinfo=CPH)


@pytest.mark.parametrize(("raw", "key"), [
    ("mandag 9:30", "ambiguous_date"),  # it is Monday: today or next week?
    ("next friday 10:00", "ambiguous_date"),
    ("næste fredag 10:00", "ambiguous_date"),
    ("1/12 14:00", "ambiguous_date"),  # 1 December or 12 January?
    ("12/1/2026 14:00", "ambiguous_date"),
    ("tomorrow", "missing_time"),
    ("2026-12-01", "missing_time"),
    ("14:00", "missing_time"),
    ("someday 14:00", "bad_datetime"),
    ("2026-02-30 10:00", "bad_datetime"),
    ("tomorrow 25:00", "bad_datetime"),
    ("2027-03-28 02:30", "nonexistent_time"),  # spring forward
    ("2026-10-25 02:30", "ambiguous_time"),  # fall back: 02:30 happens twice
])
def test_refused_with_a_clear_reason(raw, key):
    with pytest.raises(UsageError) as err:
        natural_datetime(raw, CPH, MONDAY_10, "when")
    assert err.value.key == key


def test_local_datetime_keeps_its_behaviour():
    assert local_datetime("2026-12-01", CPH, MONDAY_10, "due") == datetime(2026, 12, 1, tzinfo=CPH).astimezone(UTC)
