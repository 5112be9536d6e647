"""The meeting rhythm in words (`every="hver anden torsdag kl. 9"`): the grammar's RRULE, checked against
recurring-ical-events' expansion of it (Danish and English phrases, across the daylight-saving change), the
words `meeting series list` writes read back to the same rule, and holidays applied to a series set up in words."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import recurring_ical_events
from icalendar import Calendar, Event

from commands.context import Services
from commands.meetings import rhythm
from commands.meetings.changes import rule_words
from commands.meetings.feed import calendar_for_token
from commands.time import recurrence
from tests.meetings.mtkit import CPH, meetings, ok, say, seed
from tests.meetings.test_series_changes import expanded, token_of

PHRASES = [
    ("hver torsdag kl. 9", "FREQ=WEEKLY;BYDAY=TH", "09:00"),
    ("every Thursday at 9", "FREQ=WEEKLY;BYDAY=TH", "09:00"),
    ("hver anden torsdag kl. 9", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", "09:00"),
    ("every other Thursday at 9", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", "09:00"),
    ("Hver 3. uge mandag kl 13.30", "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO", "13:30"),
    ("every 3 weeks on Monday at 13:30", "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO", "13:30"),
    ("hver tirsdag og torsdag 8:15", "FREQ=WEEKLY;BYDAY=TU,TH", "08:15"),
    ("every Tuesday and Thursday at 8:15", "FREQ=WEEKLY;BYDAY=TU,TH", "08:15"),
    ("hver hverdag kl. 8", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "08:00"),
    ("første mandag i måneden kl. 10", "FREQ=MONTHLY;BYDAY=1MO", "10:00"),
    ("first Monday of the month at 10", "FREQ=MONTHLY;BYDAY=1MO", "10:00"),
    ("sidste fredag i måneden kl. 14", "FREQ=MONTHLY;BYDAY=-1FR", "14:00"),
    ("the last Friday of every month at 14:00", "FREQ=MONTHLY;BYDAY=-1FR", "14:00"),
    ("den 15. i hver måned kl. 9", "FREQ=MONTHLY;BYMONTHDAY=15", "09:00"),
    ("hver sondag", "FREQ=WEEKLY;BYDAY=SU", None),  # ø typed as o
    ("Torsdage", "FREQ=WEEKLY;BYDAY=TH", None),
    ("hver 2. dag", "FREQ=DAILY;INTERVAL=2", None),
]


@pytest.mark.parametrize("phrase, rule, at", PHRASES)
def test_the_grammar_writes_the_rule_and_the_time(phrase: str, rule: str, at: str | None) -> None:
    assert rhythm.parse(phrase) == (rule, at)


@pytest.mark.parametrize("phrase", ["hver", "kl. 9", "hver blå måne", "første i ugen", "every 99 weeks on Monday",
                                    "hver torsdag kl. 25", "sidste mandag og tirsdag i måneden"])
def test_words_that_make_no_rhythm_are_refused(phrase: str) -> None:
    with pytest.raises(rhythm.RhythmError):
        rhythm.parse(phrase)


def _expand(rule: str, at: str, first: date, last: date) -> list[datetime]:
    """The rule as a calendar client reads it: a VEVENT at local wall-clock time, expanded."""
    hour, minute = (int(x) for x in at.split(":"))
    start = recurrence.first_occurrence(recurrence.normalise_rule(rule, CPH), CPH, first, time(hour, minute))
    assert start is not None
    event = Event()
    event.add("uid", "x")
    event.add("dtstart", start)
    event.add("rrule", {k.lower(): v.split(",") for k, v in (p.split("=") for p in rule.split(";"))})
    cal = Calendar()
    cal.add_component(event)
    return sorted(e["DTSTART"].dt for e in recurring_ical_events.of(cal).between(first, last))


@pytest.mark.parametrize("phrase, rule, at", [p for p in PHRASES if p[2]])
def test_recurring_ical_events_expands_the_written_rule_to_the_meant_days_at_the_meant_time(
        phrase: str, rule: str, at: str) -> None:
    """Across the spring daylight-saving change (28 March 2027): the wall clock stays, the weekdays are right,
    and the spacing is what the words say."""
    rule, at = rhythm.parse(phrase)  # type: ignore[assignment]
    days = _expand(rule, at, date(2027, 2, 1), date(2027, 6, 1))
    assert days
    assert {d.astimezone(CPH).strftime("%H:%M") for d in days} == {at}
    offsets = {d.astimezone(CPH).utcoffset() for d in days}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}  # both sides of the change
    weekdays = {d.astimezone(CPH).weekday() for d in days}
    parts = dict(p.split("=") for p in rule.split(";"))
    if parts["FREQ"] == "WEEKLY":
        wanted = {rhythm.DAYS.index(code) for code in parts["BYDAY"].split(",")}
        assert weekdays == wanted
        gaps = {(b.astimezone(CPH).date() - a.astimezone(CPH).date()).days for a, b in zip(days, days[1:],
                                                                                         strict=False)}
        every = 7 * int(parts.get("INTERVAL", "1"))
        assert gaps == {every} if len(wanted) == 1 else max(gaps) <= every
    elif "BYMONTHDAY" in parts:
        assert {d.astimezone(CPH).day for d in days} == {int(parts["BYMONTHDAY"])}
    else:
        nth = int(parts["BYDAY"][:-2])
        assert len(days) == 4 and weekdays == {rhythm.DAYS.index(parts["BYDAY"][-2:])}
        for d in days:
            local = d.astimezone(CPH).date()
            if nth > 0:
                assert (local.day - 1) // 7 + 1 == nth
            else:
                assert (local + timedelta(days=7)).month != local.month


@pytest.mark.parametrize("lang", ["da", "en"])
@pytest.mark.parametrize("rule", ["FREQ=WEEKLY;BYDAY=TH", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",
                                  "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO", "FREQ=WEEKLY;INTERVAL=5;BYDAY=WE",
                                  "FREQ=WEEKLY;BYDAY=TU,TH", "FREQ=MONTHLY;BYDAY=1MO", "FREQ=MONTHLY;BYDAY=-1FR",
                                  "FREQ=MONTHLY;BYMONTHDAY=15", "FREQ=DAILY", "FREQ=DAILY;INTERVAL=3"])
def test_the_words_the_series_list_says_read_back_to_the_same_rule(lang: str, rule: str) -> None:
    words = rule_words(lang, rule, time(9, 30), CPH)
    assert rhythm.parse(words) == (rule, "09:30"), words


def test_a_series_set_up_in_words_meets_on_the_same_days_as_its_rrule_and_moves_off_holidays(svc: Services):
    """Easter 2027: Maundy Thursday (25 March) and Good Friday are holidays; `next_workday` holds the Thursday
    meeting on Monday 29 March (Easter Monday is one too: Tuesday 30 March), 9:00 local after the DST change."""
    seed(svc)
    svc.clock.instant = datetime(2027, 3, 1, 8, 0, tzinfo=CPH)
    ok(svc, 'meeting series add name="Torsdag" every="hver torsdag kl. 9" holidays=next_workday')
    ok(svc, 'meeting series add name="Thursday" rrule="FREQ=WEEKLY;BYDAY=TH" time=09:00 duration=90m '
            "holidays=next_workday")
    by_series: dict[int | None, list[datetime]] = {}
    for m in meetings(svc):
        by_series.setdefault(m.series_id, []).append(m.starts_at.astimezone(CPH))
    words, rrule = by_series.values()
    assert [d.replace(tzinfo=None) for d in words] == [d.replace(tzinfo=None) for d in rrule]
    held = [d for d in words if date(2027, 3, 20) <= d.date() <= date(2027, 4, 5)]
    assert [(d.date(), d.strftime("%H:%M")) for d in held] == [
        (date(2027, 3, 30), "09:00"), (date(2027, 4, 1), "09:00")]
    token = token_of(ok(svc, "meeting feed", user="SSP1").text)
    feed = calendar_for_token(svc, token)
    assert feed is not None
    shown = [d for d in expanded(feed, date(2027, 3, 20), date(2027, 4, 5))]
    assert sorted({d.astimezone(CPH).replace(tzinfo=None) for d in shown}) == [
        datetime(2027, 3, 30, 9, 0), datetime(2027, 4, 1, 9, 0)]


def test_unreadable_words_are_refused_with_examples_and_nothing_is_set_up(svc: Services):
    seed(svc)
    reply = say(svc, 'meeting series add name="X" every="hver blå måne"')
    assert not reply.ok and "every Thursday at 9" in reply.text and not meetings(svc)
    assert not say(svc, 'meeting series add name="X" every="hver torsdag" rrule="FREQ=DAILY"').ok
