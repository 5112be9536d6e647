"""Meetings that change, over a year with frozen time: a fortnightly Thursday series edited to Tuesdays from a
February date, one meeting moved across the spring daylight-saving change, a duration edit that keeps every
date, the series ended in December. Read back as a calendar client would: the feed parsed with icalendar and
expanded with recurring-ical-events, and the invitations a member received."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import recurring_ical_events
from icalendar import Calendar
from sqlmodel import select

from commands.context import Services
from commands.markup import plain
from commands.meetings.feed import calendar_for_token
from scheduler.jobs.meetings import meeting_tick
from storage.db import unit_of_work
from storage.models import AgendaEdit, AuditEntry
from tests.meetings.mtkit import CPH, concern, local, meeting, meetings, ok, queued, say, seed

SERIES = ('meeting series add name="Koordineringsmøde" rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH" time=09:00 '
          "duration=90m holidays=skip start=2027-01-07")


def token_of(text: str) -> str:
    url = next(w for w in plain(text).split() if "/calendar/" in w)  # a live link (markup.link)
    return url.rsplit("/", 1)[1][: -len(".ics")]


def expanded(ics: bytes, first: date, last: date) -> list[datetime]:
    events = recurring_ical_events.of(Calendar.from_ical(ics)).between(first, last)
    return sorted(e["DTSTART"].dt for e in events if str(e.get("STATUS", "")) != "CANCELLED")


def series_events(ics: bytes) -> list:
    return [e for e in Calendar.from_ical(ics).walk("VEVENT")]


def tuesdays(first: date, last: date, every: int = 14) -> list[date]:
    out, day = [], first
    while day <= last:
        out.append(day)
        day += timedelta(days=every)
    return out


def member_invitations(svc: Services, user: str, after: int) -> list[tuple[str, str, int, str]]:
    """Per .ics DMed to `user` after outbox row `after`: (METHOD, UID, SEQUENCE, RECURRENCE-ID of a file that
    carries one instance only, else "")."""
    out = []
    for kind, target, reply in queued(svc, after):
        if kind != "user" or target != user:
            continue
        for attachment in reply.attachments:
            if attachment.filename.endswith(".ics"):
                cal = Calendar.from_ical(attachment.data)
                events = cal.walk("VEVENT")
                rid = events[0].get("recurrence-id") if len(events) == 1 else None
                assert len({str(e["uid"]) for e in events}) == 1  # iTIP: one UID per message
                out.append((str(cal["method"]), str(events[0]["uid"]), max(int(e["sequence"]) for e in events),
                            rid.dt.isoformat() if rid else ""))
    return out


def files_by_method(svc: Services, user: str, after: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind, target, reply in queued(svc, after):
        if kind == "user" and target == user:
            for a in reply.attachments:
                if a.filename.endswith(".ics"):
                    method = str(Calendar.from_ical(a.data)["method"])
                    counts[method] = counts.get(method, 0) + 1
    return counts


def test_a_year_of_changing_meetings_reaches_calendars_as_updates_never_duplicates(svc: Services):
    svc.settings = svc.settings.model_copy(update={"public_url": "https://koordinator.example.dk"})
    seed(svc)
    svc.clock.instant = local(2027, 1, 4, 10, 0)
    ok(svc, SERIES)
    token = token_of(ok(svc, "meeting feed", user="SSP1").text)
    snapshots = [calendar_for_token(svc, token)]
    mark = len(queued(svc))
    thursdays = [m.ref for m in meetings(svc)]
    assert [meeting(svc, r).starts_at for r in thursdays[:3]] == [local(2027, 1, 7, 9, 0), local(2027, 1, 21, 9, 0),
                                                                 local(2027, 2, 4, 9, 0)]
    assert "S-1" in ok(svc, "meeting list").text
    listing = ok(svc, "meeting series list").text
    assert "S-1 · Koordineringsmøde · every other Thursday at 09:00 · 90 min · holidays are skipped · active" in listing
    ref = concern(svc)
    ok(svc, f"agenda add {thursdays[2]} {ref} section=7")  # 4 February: before the change, kept as it is

    # 25 January: from 9 February the unit meets every other Tuesday.
    svc.clock.instant = local(2027, 1, 25, 10, 0)
    reply = ok(svc, 'meeting series edit S-1 rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU" from=2027-02-09')
    dropped_thursdays = [r for r in thursdays if meeting(svc, r).state == "cancelled"]
    assert [meeting(svc, r).starts_at.astimezone(CPH).date() for r in dropped_thursdays][:2] == [
        date(2027, 2, 18), date(2027, 3, 4)]
    assert all(meeting(svc, r).state == "scheduled" for r in thursdays[:3])
    assert "every other Tuesday at 09:00" in reply.text
    snapshots.append(calendar_for_token(svc, token))
    feb4 = meeting(svc, thursdays[2]).id
    with unit_of_work(svc.engine) as session:
        assert session.exec(select(AgendaEdit)).one().meeting_id == feb4

    # 1 March: the meeting of Tuesday 23 March (winter time) moves to Tuesday 30 March (summer time).
    svc.clock.instant = local(2027, 3, 1, 10, 0)
    meeting_tick(svc, svc.clock.now())
    moved = next(m for m in meetings(svc) if m.starts_at == local(2027, 3, 23, 9, 0))
    ok(svc, f'meeting move {moved.ref} when="2027-03-30 09:00"')
    assert meeting(svc, moved.ref).starts_at == local(2027, 3, 30, 9, 0)
    assert meeting(svc, moved.ref).starts_at.hour == 7  # 09:00 CEST is 07:00 UTC (23 March was 08:00 UTC)
    snapshots.append(calendar_for_token(svc, token))

    # 3 May: the meeting of 18 May gets a case on its agenda; then the series is shortened to 60 minutes
    # from that date: every date stays, and with it the meeting's reference and its agenda edit.
    svc.clock.instant = local(2027, 5, 3, 10, 0)
    meeting_tick(svc, svc.clock.now())
    may18 = next(m for m in meetings(svc) if m.starts_at == local(2027, 5, 18, 9, 0))
    ok(svc, f"agenda add {may18.ref} {ref} section=7")
    reply = ok(svc, "meeting series edit S-1 duration=60m from=2027-05-18")
    assert "Cancelled: none" in reply.text
    kept = meeting(svc, may18.ref)
    assert (kept.state, kept.starts_at, kept.ends_at - kept.starts_at) == ("scheduled", local(2027, 5, 18, 9, 0),
                                                                           timedelta(minutes=60))
    with unit_of_work(svc.engine) as session:
        assert {e.meeting_id for e in session.exec(select(AgendaEdit))} == {feb4, kept.id}
    snapshots.append(calendar_for_token(svc, token))

    # 15 November: the series ends; no meetings from 15 December on.
    svc.clock.instant = local(2027, 11, 15, 10, 0)
    meeting_tick(svc, svc.clock.now())
    reply = ok(svc, "meeting series end S-1 from=2027-12-15")
    assert "no meetings from 15 Dec 2027" in reply.text
    assert not [m for m in meetings(svc) if m.state == "scheduled" and m.starts_at >= local(2027, 12, 15, 0, 0)]
    snapshots.append(calendar_for_token(svc, token))
    assert "ends 14 Dec 2027" in ok(svc, "meeting series list").text

    # The feed, expanded as a calendar client does, gives exactly the meetings held.
    final = snapshots[-1]
    assert final is not None
    expected = ([datetime(2027, 1, 7, 9, 0), datetime(2027, 1, 21, 9, 0), datetime(2027, 2, 4, 9, 0)]
                + [datetime.combine(d, datetime.min.time()).replace(hour=9) if d != date(2027, 3, 23)
                   else datetime(2027, 3, 30, 9, 0) for d in tuesdays(date(2027, 2, 9), date(2027, 12, 14))])
    found = expanded(final, date(2026, 12, 1), date(2028, 6, 1))
    assert [d.replace(tzinfo=None) for d in found] == sorted(expected)
    assert all(str(d.tzinfo) == "Europe/Copenhagen" and (d.hour, d.minute) == (9, 0) for d in found)
    main = [e for e in series_events(final) if not e.get("recurrence-id")][0]
    assert main["rrule"]["UNTIL"][0].astimezone(CPH).date() == date(2027, 12, 14)
    # …and the database agrees.
    held = sorted(m.starts_at for m in meetings(svc) if m.state == "scheduled")
    assert [d.astimezone(CPH).replace(tzinfo=None) for d in held] == sorted(expected)

    # One UID for the series all year; SEQUENCE rises with every change.
    uids = [{str(e["uid"]) for e in series_events(s)} for s in snapshots if s is not None]
    assert len(uids) == 5 and all(u == uids[0] for u in uids) and len(uids[0]) == 1
    sequences = [max(int(e["sequence"]) for e in series_events(s)) for s in snapshots if s is not None]
    assert sequences == sorted(set(sequences)) and sequences[0] == 0

    # The member's mailbox: one REQUEST per change (edit, move, edit, end), a CANCEL per dropped meeting.
    sent = member_invitations(svc, "SSP1", mark)
    dropped_in_end = [m for m in meetings(svc) if m.state == "cancelled" and m.starts_at > local(2027, 12, 15, 0, 0)]
    assert files_by_method(svc, "SSP1", mark) == {"REQUEST": 4, "CANCEL": len(dropped_thursdays) + len(dropped_in_end)}
    assert {uid for _m, uid, _s, _r in sent} == uids[0]
    request_sequences = [seq for method, _u, seq, _r in sent if method == "REQUEST"]
    assert request_sequences == sorted(request_sequences) and request_sequences[-1] == sequences[-1]
    move = [(seq, rid) for method, _u, seq, rid in sent if method == "REQUEST" and rid]
    assert [rid for _s, rid in move] == ["2027-03-23T09:00:00+01:00"]
    cancels = sorted(rid for method, _u, _s, rid in sent if method == "CANCEL")
    assert cancels[0] == "2027-02-18T09:00:00+01:00" and len(cancels) == len(set(cancels))
    with unit_of_work(svc.engine) as session:
        actions = [a.action for a in session.exec(select(AuditEntry))]
    assert {"meeting.series_edit", "meeting.move", "meeting.series_end"} <= set(actions)


def test_a_published_agenda_is_shown_as_it_was_sent_and_what_changed_since_apart(svc: Services):
    seed(svc)
    ok(svc, SERIES.replace(" start=2027-01-07", ""))
    first = concern(svc)
    mark = len(queued(svc))
    ok(svc, "agenda publish M-2026-001")
    sent = [r for kind, target, r in queued(svc)[mark:] if kind == "channel" and target == "unit"][0]
    sent_md = next(a.data for a in sent.attachments if a.filename.endswith(".md"))
    sent_pdf = next(a.data for a in sent.attachments if a.filename.endswith(".pdf"))
    svc.clock.advance(hours=3)
    second = concern(svc, severity="critical")  # a new concern arrives after publishing
    shown = ok(svc, "agenda M-2026-001")
    assert sent.text in shown.text  # the published part, byte for byte
    assert "Published version 1" in shown.text
    assert shown.text.index(sent.text) < shown.text.index(f"would now be added: {second}")
    assert first in sent.text and second not in sent.text
    assert ok(svc, "agenda M-2026-001 format=md").attachments[0].data == sent_md
    assert ok(svc, "agenda M-2026-001 format=pdf").attachments[0].data == sent_pdf
    mark = len(queued(svc))
    assert "Version 2" in ok(svc, "agenda publish M-2026-001").text
    again = [r for kind, target, r in queued(svc)[mark:] if kind == "channel" and target == "unit"][0]
    assert again.text.startswith("The agenda was updated (version 2)") and second in again.text
    assert "Published version 2" in ok(svc, "agenda M-2026-001").text
    assert "Nothing has changed" in ok(svc, "agenda M-2026-001").text


def test_closed_minutes_are_frozen_as_compiled(svc: Services):
    seed(svc)
    ok(svc, SERIES.replace(" start=2027-01-07", ""))
    ref = concern(svc)
    svc.clock.instant = local(2026, 11, 26, 9, 30)
    ok(svc, f'minutes {ref} "Mentor tilbydes" due=2026-12-15')
    closed = ok(svc, "meeting close M-2026-001")
    shown = ok(svc, "minutes show M-2026-001")
    assert "Mentor tilbydes" in shown.text and "as compiled at closing" in shown.text
    md = next(a.data for a in closed.attachments if a.filename.endswith(".md"))
    assert next(a.data for a in shown.attachments if a.filename.endswith(".md")) == md


def test_bad_change_input_is_refused_with_the_usage_line_and_changes_nothing(svc: Services):
    seed(svc)
    ok(svc, SERIES.replace(" start=2027-01-07", ""))
    before = [(m.ref, m.starts_at, m.state) for m in meetings(svc)]
    for text, expect in [
        ("meeting series edit S-9 time=10:00", "does not exist"),
        ("meeting series edit X-1 time=10:00", "not a series reference"),
        ("meeting series edit S-1", "at least one change"),
        ("meeting series edit S-1 time=10:00 from=2026-01-01", "before today"),
        ('meeting series edit S-1 rrule="FREQ=HOURLY"', "FREQ must be"),
        ("meeting series edit S-1 time=02:30", "daylight-saving"),
        ("meeting series end S-1 from=someday", "not a date"),
        ('meeting move M-2026-001 when="2026-11-26 09:00"', "already at that time"),
    ]:
        reply = say(svc, text)
        assert not reply.ok and expect in reply.text, (text, reply.text)
        assert "Usage: `meeting " in reply.text
    assert say(svc, "meeting move M-2026-001").form is not None  # typed bare: the form asks for the new time
    assert not say(svc, "meeting series edit S-1 time=10:00", user="SSP1").ok  # secretariat and admin only
    assert not say(svc, 'meeting move M-2026-001 when="2026-11-27 09:00"', user="SSP1").ok
    # into the past is asked about first (SPEC §10), and asking changes nothing
    asked = say(svc, 'meeting move M-2026-001 when="i dag 09:00"')
    assert "already passed" in asked.text and [b.action_id for b in asked.buttons] == ["confirm.yes", "confirm.no"]
    assert [(m.ref, m.starts_at, m.state) for m in meetings(svc)] == before


def test_series_list_says_the_rule_in_danish(svc: Services):
    seed(svc)
    ok(svc, SERIES.replace(" start=2027-01-07", ""))
    da = dataclasses.replace(svc, settings=svc.settings.model_copy(update={"bot_language": "da"}))
    text = ok(da, "meeting series list").text
    assert "hver anden torsdag kl. 9.00" in text and "helligdage springes over" in text and "aktiv" in text


def test_cancelling_one_meeting_of_a_series_cancels_that_instance_of_the_series_event(svc: Services):
    seed(svc)
    ok(svc, SERIES.replace(" start=2027-01-07", ""))
    mark = len(queued(svc))
    ok(svc, "meeting cancel M-2026-002")
    [(method, uid, sequence, rid)] = member_invitations(svc, "SSP1", mark)
    assert (method, sequence, rid) == ("CANCEL", 1, "2026-12-10T09:00:00+01:00")
    assert uid.startswith("series-1.")


def test_moving_an_ad_hoc_meeting_updates_its_own_event_and_its_agenda_times_follow(svc: Services):
    seed(svc)
    ok(svc, 'meeting adhoc when="2026-11-27 14:00" duration=60m topic="Akut"')
    ok(svc, "meeting invite M-2026-001 BUF1")
    svc.clock.instant = local(2026, 11, 25, 15, 0)
    assert meeting_tick(svc, svc.clock.now()).drafts == 1  # the draft for 27 November went out
    mark = len(queued(svc))
    ok(svc, 'meeting move M-2026-001 when="2026-12-02 14:00"')
    [(method, uid, sequence, _rid)] = member_invitations(svc, "BUF1", mark)
    assert (method, sequence) == ("REQUEST", 1) and uid.startswith("m-2026-001.")
    moved = meeting(svc, "M-2026-001")
    assert (moved.starts_at, moved.ends_at) == (local(2026, 12, 2, 14, 0), local(2026, 12, 2, 15, 0))
    assert meeting_tick(svc, local(2026, 11, 30, 15, 0)).drafts == 1  # 48 h before the new time
    assert meeting_tick(svc, local(2026, 12, 1, 15, 0)).published == 1  # 24 h before
    shown = ok(svc, "agenda M-2026-001").text
    assert "Published version 1" in shown


def test_a_dropped_meeting_tells_its_invited_ad_hoc_participant_and_an_ended_series_shows_no_phantom(svc: Services):
    seed(svc)
    ok(svc, SERIES.replace(" start=2027-01-07", ""))
    ok(svc, "meeting invite M-2026-002 BUF1")
    mark = len(queued(svc))
    ok(svc, "meeting series end S-1 from=2026-11-24")
    assert [m for m in member_invitations(svc, "BUF1", mark) if m[0] == "CANCEL"][0][1].startswith("m-2026-002.")
    assert all(m.state == "cancelled" for m in meetings(svc))
    token = token_of(ok(svc, "meeting feed", user="SSP1").text)
    feed = calendar_for_token(svc, token)
    assert feed is not None and expanded(feed, date(2026, 1, 1), date(2028, 1, 1)) == []
    assert "ended" in ok(svc, "meeting series list").text
