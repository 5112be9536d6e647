"""Series occurrences become meeting rows (M-YYYY-NNN) ahead of time, so every meeting has an id, an agenda
and invitations before it happens. The worker extends the horizon; creating a series fills it at once.

Idempotent and safe with several workers: the series row is locked (PostgreSQL) or the write transaction
is exclusive (SQLite), and (series, original start) is unique.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from commands.time import recurrence
from commands.time.calendar import UnitCalendar
from storage.models import Meeting, MeetingSeries
from storage.sequences import next_value


def meeting_ref(session: Session, local_day_year: int) -> str:
    """M-YYYY-NNN: the year of the meeting's local date, a never-reused number per year."""
    return f"M-{local_day_year}-{next_value(session, f'meeting:{local_day_year}'):03d}"


def series_start_local(series: MeetingSeries) -> datetime:
    tz = ZoneInfo(series.tz)
    start = series.dtstart.astimezone(tz)
    return datetime.combine(start.date(), start.time(), tzinfo=tz)


def occurrences(series: MeetingSeries, start: datetime, end: datetime,
                cal: UnitCalendar) -> list[recurrence.Occurrence]:
    """The series' instances in [start, end), moved or skipped on the unit's holidays (`cal`)."""
    return recurrence.expand(series.rrule, series_start_local(series), series.holiday_policy, cal.categories,
                             start, end, cal.country)


def materialise(session: Session, series: MeetingSeries, now: datetime, horizon_days: int,
                cal: UnitCalendar) -> list[Meeting]:
    """Create the meetings of `series` from where it was materialised until `now + horizon_days`."""
    if not series.active:
        return []
    if session.get_bind().dialect.name == "postgresql":
        locked = session.exec(select(MeetingSeries).where(MeetingSeries.id == series.id)
                              .with_for_update()).one()
        session.refresh(locked)
        series = locked
    until = now + timedelta(days=horizon_days)
    if series.materialised_until >= until:
        return []
    start = max(series.materialised_until, series.dtstart)
    existing = set(session.exec(select(Meeting.original_start).where(
        Meeting.series_id == series.id, col(Meeting.original_start) >= start)))
    tz = ZoneInfo(series.tz)
    created: list[Meeting] = []
    for occ in occurrences(series, start, until, cal):
        original = recurrence.to_utc(occ.original)
        if occ.start is None or original in existing:
            continue
        begins = recurrence.to_utc(occ.start)
        meeting = Meeting(ref=meeting_ref(session, occ.start.astimezone(tz).year), series_id=series.id,
                          kind="series", starts_at=begins, ends_at=begins + timedelta(minutes=series.duration_min),
                          original_start=original, created_by=series.created_by, created_at=now)
        session.add(meeting)
        created.append(meeting)
    series.materialised_until = until
    session.add(series)
    session.flush()
    return created


def extend_all(session: Session, now: datetime, horizon_days: int, cal: UnitCalendar) -> int:
    """The worker's part: keep every active series materialised `horizon_days` ahead (checked daily)."""
    soon = now + timedelta(days=horizon_days - 1)
    due = list(session.exec(select(MeetingSeries).where(MeetingSeries.active == True,  # noqa: E712
                                                        col(MeetingSeries.materialised_until) < soon)))
    return sum(len(materialise(session, s, now, horizon_days, cal)) for s in due)
