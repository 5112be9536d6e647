"""Calendars: the .ics parsed back with icalendar gives exactly our meetings; the feed is secret, per member,
revocable, and carries no case data."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest
from dateutil.rrule import rruleset, rrulestr
from fastapi import FastAPI
from icalendar import Calendar

from bot.calendar_feed import register
from commands.context import Services
from commands.markup import plain
from commands.meetings.feed import calendar_for_token
from tests.meetings.mtkit import concern, local, meetings, ok, say, seed


def all_values(svc: Services) -> list[object]:
    """Every value of every row of every table."""
    from sqlalchemy import MetaData, select

    meta, out = MetaData(), []
    with svc.engine.connect() as conn:
        meta.reflect(conn)
        for table in meta.tables.values():
            for row in conn.execute(select(table)):
                out.extend(row)
    return out


def occurrences_in(ics: bytes) -> dict[str, set[datetime]]:
    """Per UID: RRULE expanded minus EXDATE, moved instances replaced by their RECURRENCE-ID override."""
    events = Calendar.from_ical(ics).walk("VEVENT")
    out: dict[str, set[datetime]] = {}
    overrides = [e for e in events if e.get("recurrence-id")]
    for ev in events:
        if ev.get("recurrence-id"):
            continue
        uid, start = str(ev["uid"]), ev["dtstart"].dt
        if ev.get("status") == "CANCELLED":
            out[uid] = set()
            continue
        if not ev.get("rrule"):
            out[uid] = {start}
            continue
        rules = rruleset()
        rules.rrule(rrulestr(ev["rrule"].to_ical().decode(), dtstart=start))
        exdates = ev.get("exdate") or []
        for group in exdates if isinstance(exdates, list) else [exdates]:
            for value in group.dts:
                rules.exdate(value.dt)
        found = set(rules)
        for override in (o for o in overrides if str(o["uid"]) == uid):
            found.discard(override["recurrence-id"].dt)
            found.add(override["dtstart"].dt)
        out[uid] = found
    return out


@pytest.fixture
def feed_svc(svc: Services) -> Services:
    svc.settings = svc.settings.model_copy(update={"public_url": "https://koordinator.example.dk/"})
    seed(svc)
    svc.clock.instant = local(2027, 4, 20, 10, 0)
    ok(svc, 'meeting series add name="Torsdagsmøde" rrule="FREQ=WEEKLY;BYDAY=TH" time=09:00 duration=90m '
            "holidays=next_workday")
    ok(svc, 'meeting series add name="Mandagsmøde" rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=MO" time=13:30 '
            "duration=1h start=2027-05-03")
    return svc


def token_of(reply_text: str) -> str:
    url = next(w for w in plain(reply_text).split() if w.startswith("https://"))  # a live link (markup.link)
    assert url.startswith("https://koordinator.example.dk/calendar/") and url.endswith(".ics")
    return url.rsplit("/", 1)[1][: -len(".ics")]


def test_the_feed_parsed_back_gives_exactly_our_meetings(feed_svc: Services):
    svc = feed_svc
    ref = concern(svc)
    ok(svc, f'meeting adhoc when="i morgen 14:00" duration=45m topic="Hemmeligt emne" cases={ref}')
    ok(svc, "meeting cancel M-2027-002")  # Thursday 29 April
    token = token_of(ok(svc, "meeting feed").text)
    ics = calendar_for_token(svc, token)
    assert ics is not None
    ours = {m.starts_at for m in meetings(svc) if m.state == "scheduled"}
    horizon = max(m.starts_at for m in meetings(svc) if m.series_id)
    theirs = {d for starts in occurrences_in(ics).values() for d in starts if d <= horizon}
    assert theirs == ours
    thursdays = {m.starts_at for m in meetings(svc) if m.series_id == 1}
    assert local(2027, 5, 7, 9, 0) in thursdays and local(2027, 5, 6, 9, 0) not in thursdays  # Ascension Day
    mondays = {m.starts_at for m in meetings(svc) if m.series_id == 2}
    assert local(2027, 5, 17, 13, 30) not in mondays and local(2027, 5, 31, 13, 30) in mondays  # Whit Monday
    cal = Calendar.from_ical(ics)
    assert [tz["tzid"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Copenhagen"]
    text = ics.decode()
    assert "EXDATE;TZID=Europe/Copenhagen:20270429T090000" in text  # cancelled
    assert "EXDATE;TZID=Europe/Copenhagen:20270517T133000" in text  # Whit Monday, skipped
    assert "RECURRENCE-ID;TZID=Europe/Copenhagen:20270506T090000" in text  # Ascension Day, moved to Friday
    assert "KE-" not in text and "Hemmeligt" not in text and "Udtaler" not in text


def test_uids_are_stable_between_fetches(feed_svc: Services):
    token = token_of(ok(feed_svc, "meeting feed").text)
    first, second = calendar_for_token(feed_svc, token), calendar_for_token(feed_svc, token)
    assert first is not None and second is not None
    uids = lambda ics: sorted(str(e["uid"]) for e in Calendar.from_ical(ics).walk("VEVENT"))  # noqa: E731
    assert uids(first) == uids(second) and len(set(uids(first))) == 2


def test_an_ad_hoc_participant_sees_only_the_meetings_they_are_invited_to(feed_svc: Services):
    svc = feed_svc
    token = token_of(ok(svc, "meeting feed", user="BUF1").text)
    ics = calendar_for_token(svc, token)
    assert ics is not None and occurrences_in(ics) == {}
    ok(svc, "meeting invite M-2027-002 BUF1")
    ics = calendar_for_token(svc, token)
    assert ics is not None
    assert list(occurrences_in(ics).values()) == [{local(2027, 4, 29, 9, 0)}]
    assert not say(svc, "meeting feed", user="MENTOR").ok


async def test_the_feed_url_is_secret_stored_only_as_a_hash_and_revocable(feed_svc: Services):
    svc = feed_svc
    app = FastAPI()
    register(app, svc)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        await _revocation(svc, client)


async def _revocation(svc: Services, client: httpx.AsyncClient) -> None:
    first = token_of(ok(svc, "meeting feed", user="SSP1").text)
    assert token_of(ok(svc, "meeting feed", user="SSP1").text) == first  # shown again, not re-issued
    assert len(first) >= 40
    answer = await client.get(f"/calendar/{first}.ics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/calendar")
    assert answer.headers["cache-control"] == "private, no-store"
    assert b"BEGIN:VCALENDAR" in answer.content
    assert all(first not in str(value) for value in all_values(svc))  # the database holds only a hash
    reset = ok(svc, "meeting feed reset", user="SSP1")
    second = token_of(reset.text)
    assert second != first and "no longer works" in reset.text
    assert (await client.get(f"/calendar/{first}.ics")).status_code == 404
    assert (await client.get(f"/calendar/{second}.ics")).status_code == 200
    assert (await client.get("/calendar/guess.ics")).status_code == 404
    ok(svc, "unit remove SSP1", user="ADMIN")
    assert (await client.get(f"/calendar/{second}.ics")).status_code == 404
