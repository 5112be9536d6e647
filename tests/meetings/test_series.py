"""Meeting series and ad hoc meetings through the command language: ids, materialisation, the worker."""

from __future__ import annotations

from datetime import timedelta

from commands.context import Services
from commands.time.calendar import is_holiday
from scheduler.jobs.meetings import meeting_tick
from tests.meetings.mtkit import CPH, SERIES, local, meeting, meetings, ok, queued, say, seed


def test_a_fresh_install_proposes_the_default_fortnightly_series(svc: Services):
    seed(svc)
    reply = ok(svc, "meeting list")
    assert "every 14 days" in reply.text
    assert ('meeting series add name="Koordineringsmøde" every="hver anden torsdag kl. 9" '
            "duration=90m holidays=skip") in reply.text


def test_series_add_materialises_120_days_of_meetings_at_nine_local_none_on_a_holiday(svc: Services):
    seed(svc)
    reply = ok(svc, SERIES.format(policy="skip"))
    assert "9 meetings in the next 120 days" in reply.text
    assert reply.text.count("· Koordineringsmøde (S-1)") == 6  # the first six, and how many more
    assert "… and 3 meetings more (see them all with meeting list)" in reply.text
    rows = meetings(svc)
    assert [m.ref for m in rows[:4]] == ["M-2026-001", "M-2026-002", "M-2026-003", "M-2027-001"]
    for m in rows:
        start = m.starts_at.astimezone(CPH)
        assert (start.weekday(), start.hour, start.minute) == (3, 9, 0)
        assert m.ends_at - m.starts_at == timedelta(minutes=90)
        assert not is_holiday(start.date())
    listing = ok(svc, "meeting list").text
    assert "M-2026-001 · Thu 26 Nov 2026, 09:00–10:30 · Koordineringsmøde" in listing


def test_the_series_invitation_reaches_every_fixed_participant_with_an_ics(svc: Services):
    seed(svc)
    ok(svc, SERIES.format(policy="skip"))
    dms = {target: reply for kind, target, reply in queued(svc) if kind == "user"}
    assert set(dms) == {"ADMIN", "SEC", "SSP1", "POL1"}  # not ad hoc participants, not mentors
    assert all(r.attachments[0].filename == "series-1.ics" for r in dms.values())
    assert b"RRULE:FREQ=WEEKLY;UNTIL=" in dms["SSP1"].attachments[0].data


def test_a_series_over_ascension_day_skips_it_or_moves_it_to_friday(svc: Services):
    seed(svc)
    svc.clock.instant = local(2027, 4, 26, 10, 0)
    ok(svc, 'meeting series add name="Tors" rrule="FREQ=WEEKLY;BYDAY=TH" time=09:00 duration=60m holidays=skip')
    ok(svc, 'meeting series add name="Tors flyt" rrule="FREQ=WEEKLY;BYDAY=TH" time=09:00 duration=60m '
            "holidays=next_workday")
    skip = [m.starts_at.astimezone(CPH) for m in meetings(svc) if m.series_id == 1]
    moved = [m.starts_at.astimezone(CPH) for m in meetings(svc) if m.series_id == 2]
    assert skip[:2] == [local(2027, 4, 29, 9, 0), local(2027, 5, 13, 9, 0)]
    assert moved[:3] == [local(2027, 4, 29, 9, 0), local(2027, 5, 7, 9, 0), local(2027, 5, 13, 9, 0)]
    listing = ok(svc, "meeting list").text
    assert "6 May 2027 is skipped (Ascension Day)" in listing
    assert "6 May 2027 (Ascension Day) moves to 7 May 2027, 09:00" in listing


def test_the_worker_extends_the_horizon_without_duplicates(svc: Services):
    seed(svc)
    ok(svc, SERIES.format(policy="skip"))
    before = meetings(svc)
    assert meeting_tick(svc, svc.clock.now()).materialised == 0
    svc.clock.advance(days=30)
    assert meeting_tick(svc, svc.clock.now()).materialised == 2
    assert meeting_tick(svc, svc.clock.now()).materialised == 0
    after = meetings(svc)
    assert [m.ref for m in after[: len(before)]] == [m.ref for m in before]
    assert len({m.original_start for m in after}) == len(after) == len(before) + 2
    assert after[-1].starts_at <= svc.clock.now() + timedelta(days=120)


def test_an_ad_hoc_meeting_inside_a_series_week(svc: Services):
    seed(svc)
    ok(svc, SERIES.format(policy="skip"))
    reply = ok(svc, 'meeting adhoc when="i morgen 14:00" duration=60m topic="Akut sag"')
    assert "M-2026-004" in reply.text and reply.attachments[0].filename == "M-2026-004.ics"
    listing = ok(svc, "meeting list").text.splitlines()
    assert listing[0].startswith("M-2026-004 · Tue 24 Nov 2026, 14:00–15:00 · Ad hoc meeting")
    assert listing[1].startswith("M-2026-001 · Thu 26 Nov 2026, 09:00–10:30 · Koordineringsmøde")
    assert meeting(svc, "M-2026-001").starts_at == local(2026, 11, 26, 9, 0)  # the series is untouched
    channel = [r.text for kind, target, r in queued(svc) if kind == "channel"]
    assert any("M-2026-004" in text for text in channel) and not any("Akut" in text for text in channel)


def test_ad_hoc_dates_that_are_ambiguous_or_past_are_refused_with_the_usage_line(svc: Services):
    seed(svc)
    reply = say(svc, 'meeting adhoc when="mandag 9:30" duration=60m topic="x"')  # it is Monday
    assert not reply.ok and "ambiguous" in reply.text
    assert 'meeting adhoc when="…" duration=60m topic="…" [cases=KE-…,KE-…]' in reply.text
    reply = say(svc, 'meeting adhoc when="i dag 09:00" topic="x"')
    assert not reply.ok and "in the past" in reply.text
    assert meetings(svc) == []


def test_bad_series_input_says_what_is_wrong(svc: Services):
    seed(svc)
    for text, expect in [
        ('meeting series add name="X" rrule="FREQ=HOURLY" time=09:00 duration=90m', "FREQ must be"),
        ('meeting series add name="X" rrule="FREQ=WEEKLY;BYDAY=TH" time=02:30 duration=90m', "daylight-saving"),
        ('meeting series add name="X" rrule="FREQ=WEEKLY;BYDAY=TH" time=09:00 duration=forever', "duration="),
        ('meeting series add name="X" rrule="FREQ=WEEKLY;BYDAY=TH" time=09:00 duration=90m holidays=never',
         "holidays=never"),
    ]:
        reply = say(svc, text)
        assert not reply.ok and expect in reply.text, reply.text
        assert "Usage: `meeting series add" in reply.text
    assert say(svc, SERIES.format(policy="skip"), user="SSP1").ok is False  # members cannot set up series
    assert meetings(svc) == []


def test_cancel_tells_the_participants_with_a_cancelling_ics(svc: Services):
    seed(svc)
    ok(svc, SERIES.format(policy="skip"))
    ok(svc, "meeting invite M-2026-001 BUF1")
    mark = len(queued(svc))
    reply = ok(svc, "meeting cancel M-2026-001")
    assert "cancelled" in reply.text
    sent = queued(svc)[mark:]
    dms = {target: r for kind, target, r in sent if kind == "user"}
    assert set(dms) == {"ADMIN", "SSP1", "POL1", "BUF1"}  # the canceller (SEC) got it in the reply
    ics = dms["BUF1"].attachments[0].data
    assert b"METHOD:CANCEL" in ics and b"STATUS:CANCELLED" in ics and b"SEQUENCE:1" in ics
    assert meeting(svc, "M-2026-001").state == "cancelled"
    assert not say(svc, "meeting cancel M-2026-001").ok
