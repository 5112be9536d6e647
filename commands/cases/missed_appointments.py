"""Missed appointments (SPEC.md §10; the seed: the son "aflyser og ikke møder frem til to aftalte møder").

`mentor log … missed=yes` records a meeting the person did not come to. The second miss in a row raises the
alarm: the person's owner (the case's when the person has none; the secretariat when nobody owns it) gets a
direct message and the secretariat channel a post — the reference and the pseudonym only — and the case is
proposed for the next meeting's agenda; a critical case is proposed for an ad hoc meeting instead."""

from __future__ import annotations

from sqlmodel import col, select

from commands.context import Ctx
from commands.reply import Button, FieldLine, Reply
from storage.enums import Role, Severity
from storage.models import AgendaEdit, Case, Engagement, Meeting, Member, MentorSession, Subject
from storage.pseudonym import format_pseudonym

ALARM_AFTER = 2


def in_a_row(ctx: Ctx, engagement: Engagement) -> int:
    """How many of the latest logged meetings, newest first, the person missed."""
    count = 0
    for missed in ctx.session.exec(select(MentorSession.missed).where(MentorSession.engagement_id == engagement.id)
                                   .order_by(col(MentorSession.held_at).desc(), col(MentorSession.id).desc())
                                   .limit(10)):
        if not missed:
            break
        count += 1
    return count


def _next_meeting(ctx: Ctx) -> Meeting | None:
    """The next meeting whose agenda is not yet published (a published one would need a new version)."""
    return ctx.session.exec(select(Meeting).where(Meeting.state == "scheduled", col(Meeting.starts_at) > ctx.now(),
                                                  col(Meeting.published_at).is_(None))
                            .order_by(col(Meeting.starts_at), col(Meeting.id)).limit(1)).first()


def _propose_for_agenda(ctx: Ctx, case: Case) -> Meeting | None:
    meeting = _next_meeting(ctx)
    if meeting is None:
        return None
    edit = ctx.session.exec(select(AgendaEdit).where(AgendaEdit.meeting_id == meeting.id,
                                                     AgendaEdit.case_id == case.id)).first()
    if edit is None:
        ctx.session.add(AgendaEdit(meeting_id=meeting.id, case_id=case.id, action="add", section=4,  # type: ignore[arg-type]
                                   at=ctx.now()))
        ctx.session.flush()
    elif edit.action == "remove":
        return None  # the secretariat took it off this agenda: the alarm does not overrule it
    return meeting


def alarm(ctx: Ctx, case: Case, subject: Subject, engagement: Engagement) -> FieldLine:
    ref, pseudonym = case.ref, format_pseudonym(subject.pseudonym)
    critical = case.severity == Severity.critical
    meeting = None if critical else _propose_for_agenda(ctx, case)
    if critical:
        proposal = ctx.t("missed.adhoc", ref=ref)
    elif meeting is not None:
        proposal = ctx.t("missed.on_agenda", meeting=meeting.ref, when=ctx.fmt(meeting.starts_at))
    else:
        proposal = ctx.t("missed.no_meeting", ref=ref)
    text = ctx.t("missed.alarm", ref=ref, subject=pseudonym, n=ALARM_AFTER) + "\n" + proposal
    buttons = [Button(ctx.t("button.open_case"), "case.show", ref, f"case show {ref}")]
    owner_id = subject.owner_id or case.owner_id
    owner = ctx.session.get(Member, owner_id) if owner_id is not None else None
    if owner is not None and owner.active and owner.role != Role.mentor:
        ctx.send_dm(owner.user_id, Reply(text=text, buttons=buttons), dedupe_key=f"missed:{engagement.id}:"
                    f"{ctx.now().isoformat()}:{owner.user_id}")
    ctx.post_channel("secretariat", Reply(text=text, buttons=buttons))
    ctx.audit("mentor.missed_alarm", case_ref=ref, detail={"kind": engagement.kind, "critical": critical,
                                                           "agenda": meeting.ref if meeting else None})
    return FieldLine(ctx.t("field.alarm"), ctx.t("missed.told", n=ALARM_AFTER))
