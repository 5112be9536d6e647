"""What the meeting, agenda, minutes and feed use cases share: finding meetings, who takes part, and the
calendar form of a meeting or a series (no case data ever goes into a calendar)."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from commands import access
from commands.context import Ctx, Services
from commands.errors import UsageError
from commands.messages import t
from commands.reply import Attachment, Button, Reply
from commands.time import ics, timefmt
from commands.time.materialise import occurrences, series_start_local
from storage import sealed
from storage.models import Meeting, MeetingInvite, MeetingSeries, Member

MEETING_REF = re.compile(r"M-(\d{4})-(\d{3,6})$", re.IGNORECASE)
FIXED_ROLES = tuple(r.value for r in access.STAFF)  # the unit's fixed participants (SPEC.md §1)
FEED_HORIZON = timedelta(days=365)
ICS_TYPE = "text/calendar"


def parse_meeting_ref(raw: str | None) -> str:
    if not raw:
        raise UsageError("missing_meeting")
    match = MEETING_REF.match(raw.strip())
    if not match:
        raise UsageError("bad_meeting_ref", value=raw[:20])
    return f"M-{match.group(1)}-{match.group(2)}"


def meeting_by_ref(ctx: Ctx, raw: str | None) -> Meeting:
    ref = parse_meeting_ref(raw)
    meeting = ctx.session.exec(select(Meeting).where(Meeting.ref == ref)).first()
    if meeting is None:
        raise UsageError("unknown_meeting", ref=ref)
    return meeting


def require_open(ctx: Ctx, meeting: Meeting) -> None:
    if meeting.state != "scheduled":
        raise UsageError("meeting_not_open", ref=meeting.ref, state=ctx.label("meeting_state", meeting.state))


def is_fixed(member: Member) -> bool:
    return member.role in FIXED_ROLES


def fixed_participants(session: Session) -> list[Member]:
    return list(session.exec(select(Member).where(Member.active == True,  # noqa: E712
                                                  col(Member.role).in_(FIXED_ROLES)).order_by(col(Member.user_id))))


def invited(session: Session, meeting: Meeting) -> list[Member]:
    stmt = (select(Member).join(MeetingInvite, col(MeetingInvite.member_id) == col(Member.id))
            .where(MeetingInvite.meeting_id == meeting.id, Member.active == True)  # noqa: E712
            .order_by(col(Member.user_id)))
    return list(session.exec(stmt))


def participants(session: Session, meeting: Meeting) -> list[Member]:
    by_id: dict[int | None, Member] = {m.id: m for m in fixed_participants(session)}
    for member in invited(session, meeting):
        by_id.setdefault(member.id, member)
    return sorted(by_id.values(), key=lambda m: m.user_id)


def takes_part(session: Session, member: Member, meeting: Meeting) -> bool:
    if is_fixed(member):
        return True
    return session.exec(select(MeetingInvite.id).where(MeetingInvite.meeting_id == meeting.id,
                                                       MeetingInvite.member_id == member.id)).first() is not None


def visible_meetings(ctx: Ctx):  # noqa: ANN201 — a select() of the meetings this user may see
    stmt = select(Meeting)
    if not is_fixed(ctx.member):
        mine = select(MeetingInvite.meeting_id).where(MeetingInvite.member_id == ctx.member.id)
        stmt = stmt.where(col(Meeting.id).in_(mine))
    return stmt


def next_meeting(ctx: Ctx) -> Meeting | None:
    """The next scheduled meeting that has not ended, among those this user takes part in."""
    stmt = visible_meetings(ctx).where(Meeting.state == "scheduled", col(Meeting.ends_at) > ctx.now())
    return ctx.session.exec(stmt.order_by(col(Meeting.starts_at), col(Meeting.id)).limit(1)).first()


def overlapping(ctx: Ctx, starts: datetime, ends: datetime, exclude: int | None = None) -> list[Meeting]:
    """The scheduled meetings this user takes part in whose time overlaps [starts, ends)."""
    stmt = visible_meetings(ctx).where(Meeting.state == "scheduled", col(Meeting.starts_at) < ends,
                                       col(Meeting.ends_at) > starts)
    if exclude is not None:
        stmt = stmt.where(Meeting.id != exclude)
    return list(ctx.session.exec(stmt.order_by(col(Meeting.starts_at), col(Meeting.id))))


def which_meeting(ctx: Ctx, candidates: list[Meeting], command: str) -> Reply:
    """More than one meeting fits: ask which, one button each (the command again, naming that meeting)."""
    return Reply(text=ctx.t("meeting.which", meetings="; ".join(
        f"{m.ref} {weekday(ctx.lang, m.starts_at, ctx.tz)} {when_text(ctx, m)}" for m in candidates)),
        buttons=[Button(f"{m.ref} {when_text(ctx, m)}", "meeting.pick", m.ref, command.replace("{ref}", m.ref))
                 for m in candidates])


def series_of(session: Session, meeting: Meeting) -> MeetingSeries | None:
    return None if meeting.series_id is None else session.get(MeetingSeries, meeting.series_id)


def title(lang: str, meeting: Meeting, series: MeetingSeries | None) -> str:
    return series.name if series is not None else t(lang, "meeting.adhoc_title")


def when_text(ctx: Ctx, meeting: Meeting) -> str:
    return timefmt.span(ctx.local(meeting.starts_at), ctx.local(meeting.ends_at), ctx.lang)


def weekday(lang: str, instant: datetime, tz: ZoneInfo) -> str:
    return t(lang, "meeting.weekdays").split(",")[instant.astimezone(tz).weekday()]


# Calendar identities -------------------------------------------------------------------------------------

def install_id(svc: Services) -> str:
    """Short and stable per installation, so two units' UIDs never meet in one person's calendar."""
    return hmac.new(svc.keys.master_key, b"koordinator/install-uid", hashlib.sha256).hexdigest()[:10]


def meeting_uid(svc: Services, meeting: Meeting) -> str:
    return f"{meeting.ref.lower()}.{install_id(svc)}@koordinator"


def series_uid(svc: Services, series: MeetingSeries) -> str:
    return f"series-{series.id}.{install_id(svc)}@koordinator"


def single(svc: Services, session: Session, meeting: Meeting, series: MeetingSeries | None) -> ics.Single:
    cal = svc.calendar(session)
    tz = ZoneInfo(series.tz) if series else cal.tz
    summary = f"{title(cal.lang, meeting, series)} ({meeting.ref})"
    return ics.Single(meeting_uid(svc, meeting), meeting.starts_at.astimezone(tz), meeting.ends_at.astimezone(tz),
                      summary, meeting.sequence, cancelled=meeting.state == "cancelled")


def series_calendar(svc: Services, session: Session, series: MeetingSeries, now: datetime) -> ics.Series:
    """The series as one event: its current RRULE with EXDATEs (skipped holidays, cancelled meetings) and
    overrides for moved instances; meetings held under an earlier rule (before an edit) are RDATEs.

    Within the materialised range the meeting rows decide; beyond it the rule and the holiday policy do.
    The RRULE is bounded at the feed horizon, so a calendar never shows an instance we have not checked.
    One UID for the series' whole life, so an edit reaches a calendar as an update of the same event.
    """
    tz = ZoneInfo(series.tz)
    horizon = now + FEED_HORIZON
    all_rows = list(session.exec(select(Meeting).where(Meeting.series_id == series.id)
                                 .order_by(col(Meeting.original_start))))
    rows = {m.original_start: m for m in all_rows}
    exdates: list[datetime] = []
    moved: list[ics.Moved] = []
    rdates: list[datetime] = []
    duration = timedelta(minutes=series.duration_min)
    for row in all_rows:
        if row.original_start is None or row.original_start >= series.dtstart or row.state == "cancelled":
            continue
        original = row.original_start.astimezone(tz)
        rdates.append(original)
        if row.starts_at != row.original_start or row.ends_at - row.starts_at != duration:
            moved.append(ics.Moved(original, row.starts_at.astimezone(tz), row.ends_at.astimezone(tz)))
    last: datetime | None = None
    for occ in occurrences(series, series.dtstart, horizon, svc.calendar(session)):
        original = occ.original.astimezone(tz)
        row = rows.get(original.astimezone(ZoneInfo("UTC")))
        last = original
        if row is not None:
            if row.state == "cancelled":
                exdates.append(original)
            elif row.starts_at != row.original_start or row.ends_at - row.starts_at != duration:
                moved.append(ics.Moved(original, row.starts_at.astimezone(tz), row.ends_at.astimezone(tz)))
        elif original < series.materialised_until or occ.start is None:
            exdates.append(original)
        elif occ.moved:
            moved.append(ics.Moved(original, occ.start, occ.start + duration))
    if last is None:  # ended before its current rule began: DTSTART must not stand as a meeting
        exdates.append(series_start_local(series))
    until = last if last is not None else series_start_local(series)
    return ics.Series(series_uid(svc, series), series_start_local(series), duration, series.rrule,
                      until.astimezone(ZoneInfo("UTC")), series.name, tuple(exdates), tuple(moved),
                      series.sequence, tuple(rdates))


def _lang(svc: Services, session: Session) -> str:
    """The unit's language, for the words inside a calendar file."""
    return svc.calendar(session).lang


def ics_attachment(name: str, data: bytes) -> Attachment:
    return Attachment(filename=name, content_type=ICS_TYPE, data=data)


def meeting_invitation(svc: Services, session: Session, meeting: Meeting, now: datetime) -> Attachment:
    series = series_of(session, meeting)
    cancelled = meeting.state == "cancelled"
    data = ics.calendar([ics.single_event(single(svc, session, meeting, series), now)],
                        method="CANCEL" if cancelled else "PUBLISH", around=now.date(), lang=_lang(svc, session))
    return ics_attachment(f"{meeting.ref}.ics", data)


def series_invitation(svc: Services, session: Session, series: MeetingSeries, now: datetime) -> Attachment:
    data = ics.calendar(ics.series_events(series_calendar(svc, session, series, now), now), around=now.date(),
                        lang=_lang(svc, session))
    return ics_attachment(f"series-{series.id}.ics", data)


def topic_of(ctx: Ctx, meeting: Meeting) -> str:
    return ctx.decrypt(meeting.topic_ct, meeting.topic_kid, sealed.MEETING_TOPIC.label)


def series_update(svc: Services, session: Session, series: MeetingSeries, now: datetime,
                  dropped: list[Meeting]) -> list[Attachment]:
    """What a change sends to a fixed participant (RFC 5546): the whole series as one METHOD:REQUEST (same
    UID, higher SEQUENCE), and one METHOD:CANCEL per meeting the change dropped."""
    cal = series_calendar(svc, session, series, now)
    out = [ics_attachment(f"series-{series.id}.ics",
                          ics.calendar(ics.series_events(cal, now), method="REQUEST", around=now.date(),
                                       lang=_lang(svc, session)))]
    tz = ZoneInfo(series.tz)
    for meeting in dropped:
        original = (meeting.original_start or meeting.starts_at).astimezone(tz)
        data = ics.calendar([ics.instance_cancel(cal, original, now)], method="CANCEL", around=now.date(),
                            lang=_lang(svc, session))
        out.append(ics_attachment(f"{meeting.ref}.ics", data))
    return out


def instance_update(svc: Services, session: Session, meeting: Meeting, now: datetime) -> Attachment:
    """One moved meeting of a series, as an update of that instance (RECURRENCE-ID) of the series' event."""
    series = series_of(session, meeting)
    assert series is not None and meeting.original_start is not None
    tz = ZoneInfo(series.tz)
    cal = series_calendar(svc, session, series, now)
    moved = ics.Moved(meeting.original_start.astimezone(tz), meeting.starts_at.astimezone(tz),
                      meeting.ends_at.astimezone(tz))
    data = ics.calendar([ics.instance_override(cal, moved, now)], method="REQUEST", around=now.date(),
                        lang=_lang(svc, session))
    return ics_attachment(f"{meeting.ref}.ics", data)


def single_update(svc: Services, session: Session, meeting: Meeting, now: datetime) -> Attachment:
    """A meeting with its own UID (ad hoc, or a series meeting as an invited ad hoc participant knows it)."""
    data = ics.calendar([ics.single_event(single(svc, session, meeting, series_of(session, meeting)), now)],
                        method="REQUEST", around=now.date(), lang=_lang(svc, session))
    return ics_attachment(f"{meeting.ref}.ics", data)


def series_ref(series: MeetingSeries) -> str:
    return series.ref or f"S-{series.id}"
