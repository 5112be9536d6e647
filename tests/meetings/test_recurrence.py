"""Series expansion in Copenhagen wall-clock time: daylight saving and Danish holidays under both policies."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from commands.time import recurrence
from commands.time.calendar import is_holiday

CPH = ZoneInfo("Europe/Copenhagen")


def expand(rule: str, first: date, policy: str, days: int = 400, categories: tuple[str, ...] = ("public",),
           at: time = time(9, 0)) -> list[recurrence.Occurrence]:
    text = recurrence.normalise_rule(rule, CPH)
    start = recurrence.first_occurrence(text, CPH, first, at)
    assert start is not None
    return recurrence.expand(text, start, policy, categories, start, start + timedelta(days=days))


def held(occurrences: list[recurrence.Occurrence]) -> list[datetime]:
    return [o.start for o in occurrences if o.start is not None]


@pytest.mark.parametrize("sunday", [date(2028, 3, 26), date(2027, 10, 31)])  # 2027-03-28 is Easter Sunday
def test_the_last_sundays_of_march_and_october_keep_nine_oclock_local(sunday):
    occ = expand("FREQ=WEEKLY;BYDAY=SU", sunday - timedelta(days=7), "skip", days=15)
    starts = held(occ)
    assert [s.date() for s in starts] == [sunday - timedelta(days=7), sunday, sunday + timedelta(days=7)]
    assert all(s.hour == 9 and s.minute == 0 for s in starts)
    offsets = [s.astimezone(UTC).hour for s in starts]
    # 09:00 CET is 08:00 UTC, 09:00 CEST is 07:00 UTC: the instant moves, the wall clock does not.
    assert offsets == ([8, 7, 7] if sunday.month == 3 else [7, 8, 8])


def test_a_fortnightly_thursday_series_over_a_year_is_always_at_nine_local():
    occ = expand("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", date(2026, 11, 23), "skip", days=366)
    starts = held(occ)
    assert starts[0] == datetime(2026, 11, 26, 9, 0, tzinfo=CPH)
    assert {(s.hour, s.minute, s.weekday()) for s in starts} == {(9, 0, 3)}
    assert all((b - a).days == 14 for a, b in zip(starts, starts[1:], strict=False) if b.weekday() == a.weekday())


@pytest.mark.parametrize(("rule", "first", "holiday", "moved_to"), [
    ("FREQ=WEEKLY;BYDAY=TH", date(2027, 4, 26), date(2027, 5, 6), date(2027, 5, 7)),  # Ascension Day → Friday
    ("FREQ=WEEKLY;BYDAY=MO", date(2027, 5, 10), date(2027, 5, 17), date(2027, 5, 18)),  # Whit Monday → Tuesday
    ("FREQ=WEEKLY;BYDAY=FR", date(2026, 12, 14), date(2026, 12, 25), date(2026, 12, 28)),  # Christmas → Monday
    ("FREQ=WEEKLY;BYDAY=FR", date(2026, 12, 28), date(2027, 1, 1), date(2027, 1, 4)),  # New Year → Monday
])
@pytest.mark.parametrize("policy", ["skip", "next_workday"])
def test_danish_holidays_are_skipped_or_moved_to_the_next_working_day(rule, first, holiday, moved_to, policy):
    occ = expand(rule, first, policy, days=21)
    on_holiday = [o for o in occ if o.original.date() == holiday]
    assert len(on_holiday) == 1 and is_holiday(holiday)
    starts = held(occ)
    assert all(not is_holiday(s.date()) for s in starts)
    if policy == "skip":
        assert on_holiday[0].start is None and holiday not in {s.date() for s in starts}
    else:
        assert on_holiday[0].start == datetime.combine(moved_to, time(9, 0), tzinfo=CPH)
        assert on_holiday[0].moved


def test_christmas_eve_counts_only_when_the_unit_adds_the_optional_holidays():
    plain = expand("FREQ=WEEKLY;BYDAY=TH", date(2026, 12, 21), "skip", days=7)
    optional = expand("FREQ=WEEKLY;BYDAY=TH", date(2026, 12, 21), "skip", days=7, categories=("public", "optional"))
    assert held(plain) == [datetime(2026, 12, 24, 9, 0, tzinfo=CPH)]
    assert held(optional) == []


def test_next_workday_never_doubles_a_meeting_day():
    occ = expand("FREQ=WEEKLY;BYDAY=MO,TU", date(2027, 5, 10), "next_workday", days=14)
    days = [s.date() for s in held(occ)]
    assert date(2027, 5, 17) not in days and days.count(date(2027, 5, 18)) == 1


@pytest.mark.parametrize(("raw", "code"), [
    ("FREQ=HOURLY", "freq"), ("FREQ=WEEKLY;BYHOUR=9", "part"), ("BYDAY=TU", "freq"), ("FREQ=WEEKLY;;BYDAY", "syntax"),
    ("FREQ=WEEKLY;BYDAY=XX", "syntax"), ("FREQ=WEEKLY;COUNT=3;UNTIL=20270101", "syntax"),
])
def test_rules_that_cannot_be_used_are_refused_with_a_reason(raw, code):
    with pytest.raises(recurrence.RuleError) as err:
        recurrence.normalise_rule(raw, CPH)
    assert err.value.code == code


def test_until_as_a_local_date_covers_that_whole_day():
    text = recurrence.normalise_rule("rrule:freq=weekly;byday=tu;until=20270629", CPH)
    assert text == "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270629T215959Z"
    occ = expand(text, date(2027, 6, 14), "skip", days=60)
    assert held(occ)[-1].date() == date(2027, 6, 29)


@pytest.mark.parametrize(("raw", "minutes"), [("90m", 90), ("1h30m", 90), ("1h", 60), ("1,5h", 90), ("45", 45),
                                              ("2t", 120), ("0m", None), ("13h", None), ("x", None), ("", None)])
def test_durations(raw, minutes):
    assert recurrence.parse_duration(raw) == minutes


def test_the_doubled_and_missing_two_oclock_hour_is_refused_as_a_series_time():
    assert not recurrence.valid_start_time(time(2, 30))
    assert recurrence.valid_start_time(time(9, 0))
