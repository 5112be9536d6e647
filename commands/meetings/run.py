"""The meeting run from its agenda: per case a decision (the `minutes` form), postponed to the next meeting, or
no change; who was present, ticked off the invited; the secretariat's view of what is done. `meeting close`
compiles the minutes from these (commands/meetings/minutes.py) — nothing is typed twice.

Every button runs a command that can be typed as well (`agenda postpone M-… KE-…`), so a meeting run from the
buttons leaves exactly what the typed run leaves.
"""

from __future__ import annotations

from sqlmodel import col, select

from commands import access
from commands.context import Ctx
from commands.errors import UsageError
from commands.meetings.agenda import build_agenda, buttons_for
from commands.meetings.meeting import meeting_by_ref, participants, require_open, when_text
from commands.parsing import case_ref, only_options
from commands.registry import command
from commands.reply import Button, Reply
from commands.tokenizer import Args, user_ref
from storage.enums import OPEN_STATES
from storage.models import AgendaEdit, AgendaItem, Attendance, Case, Meeting, MeetingOutcome, Member, MinuteEntry

OUTCOMES = ("postponed", "unchanged")


def agenda_cases(ctx: Ctx, meeting: Meeting) -> list[Case]:
    """The cases on the meeting's agenda, in its order (the latest built agenda)."""
    stmt = (select(Case).join(AgendaItem, col(AgendaItem.case_id) == col(Case.id))
            .where(AgendaItem.meeting_id == meeting.id)
            .order_by(col(AgendaItem.section), col(AgendaItem.position), col(Case.ref)))
    by_id: dict[int | None, Case] = {}  # a case with items in two sections is listed once
    for case in ctx.session.exec(stmt):
        by_id.setdefault(case.id, case)
    return list(by_id.values())


def _state_of(ctx: Ctx, meeting: Meeting) -> tuple[dict[int, int], dict[int, MeetingOutcome]]:
    decided: dict[int, int] = {}
    for case_id in ctx.session.exec(select(MinuteEntry.case_id).where(MinuteEntry.meeting_id == meeting.id)):
        decided[case_id] = decided.get(case_id, 0) + 1
    outcomes = {o.case_id: o for o in ctx.session.exec(select(MeetingOutcome)
                                                      .where(MeetingOutcome.meeting_id == meeting.id))}
    return decided, outcomes


def present(ctx: Ctx, meeting: Meeting) -> list[Member]:
    stmt = (select(Member).join(Attendance, col(Attendance.member_id) == col(Member.id))
            .where(Attendance.meeting_id == meeting.id).order_by(col(Member.org), col(Member.display_name)))
    return list(ctx.session.exec(stmt))


def attendance_line(ctx: Ctx, meeting: Meeting) -> str:
    """"Til stede: Politiet: Ann; SSP: Bo, Cy" — by org, in the reader's words."""
    by_org: dict[str, list[str]] = {}
    for m in present(ctx, meeting):
        by_org.setdefault(ctx.label("org", m.org), []).append(m.display_name or m.user_id)
    if not by_org:
        return ctx.t("run.present_none")
    return ctx.t("run.present", who="; ".join(f"{org}: {', '.join(names)}" for org, names in by_org.items()))


def outcome_lines(ctx: Ctx, meeting: Meeting) -> list[str]:
    """The cases postponed (to which meeting) and those with no change, for the minutes."""
    lines = []
    rows = ctx.session.exec(select(MeetingOutcome, Case).join(Case, col(Case.id) == col(MeetingOutcome.case_id))
                            .where(MeetingOutcome.meeting_id == meeting.id).order_by(col(Case.ref)))
    for outcome, case in rows:
        if outcome.outcome == "postponed":
            target = ctx.session.get(Meeting, outcome.to_meeting_id) if outcome.to_meeting_id else None
            lines.append(ctx.t("run.line_postponed", ref=case.ref, meeting=target.ref if target else "—"))
        else:
            lines.append(ctx.t("run.line_unchanged", ref=case.ref))
    return lines


@command("meeting run", "meeting run M-…", access.LEADS)
def meeting_run(ctx: Ctx, args: Args) -> Reply:
    """The secretariat's view of a meeting under way: each case on the agenda and whether it is dealt with."""
    only_options(args, set(), words=1)
    meeting = meeting_by_ref(ctx, args.words[0] if args.words else None)
    cases = agenda_cases(ctx, meeting)
    decided, outcomes = _state_of(ctx, meeting)
    listed = {case.id for case in cases}  # a case dealt with here that the built agenda does not list (typed
    extra = [ctx.session.get(Case, cid) for cid in dict.fromkeys([*decided, *outcomes]) if cid not in listed]
    cases += sorted((c for c in extra if c is not None), key=lambda c: c.ref)  # before any agenda was built)
    lines, pending = [when_text(ctx, meeting), attendance_line(ctx, meeting), ""], []
    for case in cases:
        if case.id in decided:
            state = ctx.tn("run.decided", decided[case.id])
        elif case.id in outcomes:
            state = ctx.t(f"run.state.{outcomes[case.id].outcome}")
        else:
            state = ctx.t("run.state.pending")
            pending.append(case.ref)
        lines.append(f"{'✓' if case.ref not in pending else '○'} {case.ref} · {state}")
    if not cases:
        lines.append(ctx.t("run.no_cases"))
    lines += ["", ctx.t("run.done_count", done=len(cases) - len(pending), total=len(cases))]
    buttons = buttons_for(ctx.lang, meeting.ref, pending)[:-1] if meeting.state == "scheduled" else []
    if meeting.state == "scheduled":
        buttons.append(Button(ctx.t("run.close"), "run.close", meeting.ref, f"meeting close {meeting.ref}"))
    return Reply(title=ctx.t("run.title", ref=meeting.ref), text="\n".join(lines), buttons=buttons)


def _target(ctx: Ctx, args: Args) -> tuple[Meeting, Case]:
    only_options(args, set(), words=2)
    meeting = meeting_by_ref(ctx, args.words[0] if args.words else None)
    require_open(ctx, meeting)
    ref = case_ref(args.words[1] if len(args.words) > 1 else None)
    case = ctx.session.exec(select(Case).where(Case.ref == ref)).first()
    if case is None:
        raise UsageError("unknown_case", ref=ref)
    return meeting, case


def _record(ctx: Ctx, meeting: Meeting, case: Case, outcome: str, to: Meeting | None) -> None:
    row = ctx.session.exec(select(MeetingOutcome).where(MeetingOutcome.meeting_id == meeting.id,
                                                        MeetingOutcome.case_id == case.id)).first()
    row = row or MeetingOutcome(meeting_id=meeting.id, case_id=case.id, outcome=outcome, at=ctx.now())  # type: ignore[arg-type]
    row.outcome, row.to_meeting_id = outcome, to.id if to else None
    row.actor_id, row.at = ctx.actor.id if ctx.actor else None, ctx.now()
    ctx.session.add(row)
    ctx.session.flush()


@command("agenda postpone", "agenda postpone M-… KE-…", access.LEADS)
def agenda_postpone(ctx: Ctx, args: Args) -> Reply:
    """The case goes on the next meeting's agenda; this meeting's minutes say so."""
    meeting, case = _target(ctx, args)
    if case.state not in OPEN_STATES:
        raise UsageError("case_closed", ref=case.ref)
    following = ctx.session.exec(select(Meeting).where(Meeting.state == "scheduled",
                                                       col(Meeting.starts_at) > meeting.starts_at)
                                 .order_by(col(Meeting.starts_at), col(Meeting.id))).first()
    if following is None:
        raise UsageError("no_next_meeting", ref=meeting.ref)
    edit = ctx.session.exec(select(AgendaEdit).where(AgendaEdit.meeting_id == following.id,
                                                     AgendaEdit.case_id == case.id)).first()
    edit = edit or AgendaEdit(meeting_id=following.id, case_id=case.id, action="add", at=ctx.now())  # type: ignore[arg-type]
    edit.action, edit.actor_id, edit.at = "add", ctx.actor.id if ctx.actor else None, ctx.now()
    ctx.session.add(edit)
    _record(ctx, meeting, case, "postponed", following)
    build_agenda(ctx.svc, ctx.session, following, ctx.now())
    ctx.audit("agenda.postpone", case_ref=case.ref, detail={"meeting": meeting.ref, "to": following.ref})
    return Reply(text=ctx.t("run.postponed", ref=case.ref, meeting=following.ref))


@command("agenda unchanged", "agenda unchanged M-… KE-…", access.LEADS)
def agenda_unchanged(ctx: Ctx, args: Args) -> Reply:
    meeting, case = _target(ctx, args)
    _record(ctx, meeting, case, "unchanged", None)
    ctx.audit("agenda.unchanged", case_ref=case.ref, detail={"meeting": meeting.ref})
    return Reply(text=ctx.t("run.unchanged_done", ref=case.ref))


@command("meeting attendance", "meeting attendance M-… @user @user …", access.LEADS)
def meeting_attendance(ctx: Ctx, args: Args) -> Reply:
    """Who was present (the whole list, replacing an earlier one): members of the unit, by mention or id
    (the form sends `present=` with the ticked ids)."""
    only_options(args, {"present"}, words=len(args.words))
    meeting = meeting_by_ref(ctx, args.words[0] if args.words else None)
    require_open(ctx, meeting)
    raw = ",".join([*args.mentions, *args.words[1:], args.options.get("present") or ""])
    wanted = list(dict.fromkeys(user_ref(p) for p in raw.replace(" ", ",").split(",") if p.strip()))
    if not wanted:
        raise UsageError("missing_user")
    found = {m.user_id: m for m in ctx.session.exec(select(Member).where(col(Member.user_id).in_(wanted)))}
    for user in wanted:
        if user not in found:
            raise UsageError("unknown_member", option="present", user=user[:40])
    for old in ctx.session.exec(select(Attendance).where(Attendance.meeting_id == meeting.id)):
        ctx.session.delete(old)
    ctx.session.flush()
    for user in dict.fromkeys(wanted):
        member = found[user]
        ctx.session.add(Attendance(meeting_id=meeting.id, member_id=member.id, actor_id=ctx.actor.id if ctx.actor  # type: ignore[arg-type]
                                   else None, at=ctx.now()))
    ctx.session.flush()
    invited = {m.id for m in participants(ctx.session, meeting)}
    ctx.audit("meeting.attendance", detail={"meeting": meeting.ref, "present": len(found),
                                            "not_invited": len([m for m in found.values() if m.id not in invited])})
    return Reply(text=attendance_line(ctx, meeting))
