"""iCalendar (RFC 5545) for invitations and the calendar feed: built with `icalendar`, never by hand.

Times are written in local time with a TZID and a VTIMEZONE, so calendars keep 09:00 at 09:00 across
daylight saving; a series is one VEVENT with its RRULE, EXDATEs for skipped instances and RECURRENCE-ID
overrides for moved ones. Nothing here knows about cases: summaries are meeting names only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event, vRecur

from commands.messages import t
from commands.time import timefmt

PRODID = "-//koordinator//meetings//DA"
ORGANIZER = "mailto:noreply@koordinator.invalid"


@dataclass(frozen=True)
class Single:
    uid: str
    start: datetime  # aware
    end: datetime
    summary: str
    sequence: int = 0
    cancelled: bool = False


@dataclass(frozen=True)
class Moved:
    original: datetime  # aware local: the rule's instant (RECURRENCE-ID)
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Series:
    uid: str
    dtstart: datetime  # aware local; an instance of the rule
    duration: timedelta
    rrule: str  # canonical RRULE text (no DTSTART)
    until: datetime | None  # aware UTC: the feed's horizon (replaces COUNT/UNTIL of the stored rule)
    summary: str
    exdates: tuple[datetime, ...] = ()
    moved: tuple[Moved, ...] = field(default_factory=tuple)
    sequence: int = 0
    rdates: tuple[datetime, ...] = ()  # meetings held under an earlier rule of the series (before DTSTART)


def _event(uid: str, stamp: datetime, summary: str, start: datetime, end: datetime, sequence: int) -> Event:
    ev = Event()
    ev.add("uid", uid)
    ev.add("dtstamp", stamp.astimezone(UTC))
    ev.add("summary", summary)
    ev.add("dtstart", start)
    ev.add("dtend", end)
    ev.add("sequence", sequence)
    ev.add("transp", "OPAQUE")
    return ev


def _rule(text: str, until: datetime | None) -> vRecur:
    recur = vRecur.from_ical(text)
    for key in ("COUNT", "UNTIL"):
        recur.pop(key, None)
    if until is not None:
        recur["UNTIL"] = [until.astimezone(UTC).replace(microsecond=0)]
    return recur


def series_events(series: Series, stamp: datetime) -> list[Event]:
    main = _event(series.uid, stamp, series.summary, series.dtstart, series.dtstart + series.duration,
                  series.sequence)
    main.add("rrule", _rule(series.rrule, series.until))
    if series.rdates:
        main.add("rdate", sorted(series.rdates))
    if series.exdates:
        main.add("exdate", sorted(series.exdates))
    out = [main]
    for moved in series.moved:
        ev = _event(series.uid, stamp, series.summary, moved.start, moved.end, series.sequence)
        ev.add("recurrence-id", moved.original)
        out.append(ev)
    return out


def instance_override(series: Series, moved: Moved, stamp: datetime) -> Event:
    """One instance of a series, as an iTIP update sends it: the series' UID with a RECURRENCE-ID."""
    ev = _event(series.uid, stamp, series.summary, moved.start, moved.end, series.sequence)
    ev.add("recurrence-id", moved.original)
    return ev


def instance_cancel(series: Series, original: datetime, stamp: datetime) -> Event:
    """A dropped instance of a series (METHOD:CANCEL): its UID, its RECURRENCE-ID, STATUS:CANCELLED."""
    ev = _event(series.uid, stamp, series.summary, original, original + series.duration, series.sequence)
    ev.add("recurrence-id", original)
    ev.add("status", "CANCELLED")
    return ev


def single_event(single: Single, stamp: datetime) -> Event:
    ev = _event(single.uid, stamp, single.summary, single.start, single.end, single.sequence)
    ev.add("status", "CANCELLED" if single.cancelled else "CONFIRMED")
    return ev


def calendar(events: list[Event], *, name: str | None = None, method: str = "PUBLISH",
             around: date | None = None, lang: str | None = None) -> bytes:
    """A VCALENDAR with the VTIMEZONEs its events need, for the years its events span (to keep it small).
    The VTIMEZONE's COMMENT (which years it covers) is in the unit's language `lang`; without one, none."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    if method in ("REQUEST", "CANCEL"):  # iTIP (RFC 5546) wants an organizer on every component
        for ev in events:
            ev.add("organizer", ORGANIZER, parameters={"CN": "koordinator"})
    if name:
        cal.add("x-wr-calname", name)
    for ev in events:
        cal.add_component(ev)
    pivot = around or datetime.now(UTC).date()
    starts = [ev.get("dtstart").dt for ev in events]
    first = min([s.date() if isinstance(s, datetime) else s for s in starts] + [pivot])
    start, end = date(first.year - 1, 1, 1), date(pivot.year + 6, 1, 1)
    cal.add_missing_timezones(first_date=start, last_date=end)
    for zone in cal.walk("VTIMEZONE"):
        zone.pop("COMMENT", None)  # icalendar's own is English
        if lang is not None:
            zone.add("comment", t(lang, "ics.zone_comment", first=timefmt.day(start, lang),
                                  last=timefmt.day(end, lang)))
    return cal.to_ical()
