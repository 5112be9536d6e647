"""A case's checklist (SPEC.md §9): its track's procedure, copied at qualification from the current profile
version (and kept when the profile changes later), due dates from anchors, reminders as follow-ups of kind
`step` through the ordinary sweep, and the close guard for required steps. See docs/profile.md."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlmodel import col, func, or_, select

from commands import access
from commands.cases.record import add_event
from commands.context import Ctx
from commands.errors import UsageError
from commands.followups import rules
from commands.markup import mention
from commands.members.people import member_by_ref
from commands.parsing import local_datetime, only_options
from commands.registry import case_command
from commands.reply import FieldLine, Reply
from commands.tokenizer import Args
from storage import sealed
from storage.enums import OPEN_STATES, CaseState, EngagementState, Role
from storage.models import Case, Engagement, FollowUp, Member, Subject
from storage.profile import store
from storage.profile.schema import OFFSET, ROLES
from storage.profile.tables import CaseStep
from storage.pseudonym import format_pseudonym

STEP_STATES = ("done", "skip")


def due_from(anchor_at: datetime, offset: str, ctx: Ctx) -> datetime:
    """Hours count exactly; days, working days, weeks and months land on the due day's morning (the start of
    the unit's working hours, local), so the reminder is there when the day starts, across DST changes."""
    match = OFFSET.match(offset)
    assert match is not None
    n, unit = int(match.group(1)), match.group(2)
    if unit == "h":
        return anchor_at + timedelta(hours=n)
    cal = ctx.cal
    day = cal.local(anchor_at).date()
    if unit == "wd":
        step = 1 if n >= 0 else -1
        n = abs(n)
        while n > 0:
            day += timedelta(days=step)
            n -= int(cal.is_working_day(day))
    else:
        day += {"d": relativedelta(days=n), "w": relativedelta(weeks=n), "m": relativedelta(months=n)}[unit]
    return cal.at(day)


OFFSET_WORDS = {"h": "n.hours", "d": "n.days", "wd": "n.working_days", "w": "n.weeks", "m": "n.months"}


def when_words(ctx: Ctx, anchor: str, offset: str) -> str:
    """A step's due offset in words: `2wd` after `referred` → "2 arbejdsdage efter visitation", `-6m` before
    `release` → "6 måneder før løsladelsen"."""
    match = OFFSET.match(offset)
    if match is None:
        return ctx.label("anchor", anchor)
    amount = int(match.group(1))  # negative: before the anchor (a prison case's release)
    return ctx.t("steps.after" if amount >= 0 else "steps.before",
                 offset=ctx.tn(OFFSET_WORDS[match.group(2)], abs(amount)), anchor=ctx.label("anchor", anchor))


def assignee(ctx: Ctx, case: Case, responsible: str, subject: Subject | None = None) -> int | None:
    """owner → the case owner (a person's step: that person's owner first); secretariat → nobody (the sweep
    tells the secretariat); mentor → the case's active engagement's mentor; an org → its first active member
    (reassign with `assign=@user`)."""
    if responsible == "owner":
        return (subject.owner_id if subject is not None else None) or case.owner_id
    if responsible == "secretariat":
        return None
    if responsible == "mentor":
        return ctx.session.exec(select(Engagement.mentor_id).where(
            Engagement.case_id == case.id, Engagement.state == EngagementState.active,
            col(Engagement.mentor_id).is_not(None)).order_by(col(Engagement.id))).first()
    candidates = ctx.session.exec(select(Member).where(
        Member.org == responsible, col(Member.active), col(Member.role).in_((Role.member, Role.adhoc)))
        .order_by(col(Member.id)))
    return next((m.id for m in candidates if access.can_see(ctx.session, m, case)), None)  # need-to-know first


def title_of(ctx: Ctx, step: CaseStep) -> str:
    if step.title_ct is not None:
        return ctx.decrypt(step.title_ct, step.title_kid, sealed.STEP_TITLE.label)
    return step.title_da if ctx.lang == "da" else step.title_en


def schedule(ctx: Ctx, case: Case, step: CaseStep, anchor_at: datetime) -> None:
    step.due_at = due_from(anchor_at, step.due_offset, ctx)
    if step.anchor != "closed" and CaseState(case.state) in OPEN_STATES:
        text = title_of(ctx, step)
        person = ctx.session.get(Subject, step.subject_id) if step.subject_id is not None else None
        if person is not None:  # a family's person's own checklist: the reminder says whose step it is
            text = f"{text} ({format_pseudonym(person.pseudonym)})"
        ct, kid = ctx.encrypt(text, sealed.FOLLOWUP_TEXT.label)
        followup = rules.add_custom(ctx.session, case, step.assignee_id, step.due_at, ct, kid, ctx.now(), kind="step")
        step.followup_id = followup.id
    ctx.session.add(step)


def case_steps(ctx: Ctx, case: Case) -> list[CaseStep]:
    return list(ctx.session.exec(select(CaseStep).where(CaseStep.case_id == case.id).order_by(col(CaseStep.n))))


def attach(ctx: Ctx, case: Case) -> None:
    """At qualification: the track's procedure of the current profile version, once per case."""
    if case.procedure_version is not None:
        return
    current = store.current(ctx.session, ctx.settings)
    if not current.profile.procedures_active:
        return
    case.procedure_version = current.version
    ctx.session.add(case)
    start = ctx.session.exec(select(func.max(CaseStep.n)).where(CaseStep.case_id == case.id)).one() or 0
    for n, spec in enumerate(current.profile.steps(case.track), start=start + 1):  # after steps added before
        step = CaseStep(case_id=case.id, n=n, profile_version=current.version,  # type: ignore[arg-type]
                        title_da=spec.title.da, title_en=spec.title.en, responsible=spec.responsible,
                        anchor=spec.anchor, due_offset=spec.due, required=spec.required_before_close,
                        on_agenda_when_late=spec.on_agenda_when_late)
        step.assignee_id = assignee(ctx, case, spec.responsible)
        ctx.session.add(step)
        if spec.anchor == "received":  # a case taken over: from the takeover (no step is born late)
            schedule(ctx, case, step, max(case.received_at, case.taken_over_at or case.received_at))
        elif spec.anchor == "qualified":
            schedule(ctx, case, step, ctx.now())
    ctx.session.flush()
    for subject in ctx.session.exec(select(Subject).where(Subject.case_id == case.id).order_by(col(Subject.id))):
        if subject.track and subject.track != case.track:
            attach_person(ctx, case, subject)


def attach_person(ctx: Ctx, case: Case, subject: Subject) -> None:
    """A family case's person on another track gets that track's procedure as their own steps (numbered after
    the case's), once per person and track; anchors already passed make a step due from now."""
    current = store.current(ctx.session, ctx.settings)
    if not current.profile.procedures_active or subject.track is None:
        return
    have = ctx.session.exec(select(CaseStep.id).where(CaseStep.case_id == case.id,
                                                      CaseStep.subject_id == subject.id,
                                                      col(CaseStep.profile_version).is_not(None))).first()
    if have is not None:
        return
    start = ctx.session.exec(select(func.max(CaseStep.n)).where(CaseStep.case_id == case.id)).one() or 0
    passed = {"received", "qualified"} | ({"referred"} if subject.referred_at is not None else set())
    for n, spec in enumerate(current.profile.steps(subject.track), start=start + 1):
        step = CaseStep(case_id=case.id, n=n, profile_version=current.version, subject_id=subject.id,  # type: ignore[arg-type]
                        title_da=spec.title.da, title_en=spec.title.en, responsible=spec.responsible,
                        anchor=spec.anchor, due_offset=spec.due, required=spec.required_before_close,
                        on_agenda_when_late=spec.on_agenda_when_late)
        step.assignee_id = assignee(ctx, case, spec.responsible, subject)
        ctx.session.add(step)
        if spec.anchor in passed:
            schedule(ctx, case, step, case.received_at if spec.anchor == "received" else ctx.now())
    ctx.session.flush()


def anchor_reached(ctx: Ctx, case: Case, anchor: str, subject_id: int | None = None) -> None:
    """Referred, an offer declined, an engagement started, closed: the steps waiting for it get their due date
    (the first time only: one reminder per step, not one per subject). With `subject_id` (one person of a
    family reached it): the case's own steps and that person's, not the other persons'."""
    where = [] if subject_id is None else [or_(col(CaseStep.subject_id).is_(None), CaseStep.subject_id == subject_id)]
    for step in ctx.session.exec(select(CaseStep).where(CaseStep.case_id == case.id, CaseStep.anchor == anchor,
                                                        CaseStep.state == "open", col(CaseStep.due_at).is_(None),
                                                        *where)):
        if step.responsible in ("owner", "mentor"):
            person = ctx.session.get(Subject, step.subject_id) if step.subject_id is not None else None
            step.assignee_id = assignee(ctx, case, step.responsible, person) or step.assignee_id
        schedule(ctx, case, step, ctx.now())


def unfinished_required(ctx: Ctx, case: Case) -> list[CaseStep]:
    return [s for s in case_steps(ctx, case) if s.required and s.state == "open"]


def _finish_followup(ctx: Ctx, step: CaseStep, state: str) -> None:
    if step.followup_id is None:
        return
    followup = ctx.session.get(FollowUp, step.followup_id)
    if followup is not None and followup.state in rules.LIVE:
        rules.mark(followup, state, ctx.now())
        ctx.session.add(followup)


def tick(ctx: Ctx, case: Case, step: CaseStep, state: str, reason: str | None = None,
         via_followup: bool = False) -> None:
    step.state, step.done_by, step.done_at = state, ctx.actor.id if ctx.actor else None, ctx.now()
    ctx.session.add(step)
    if not via_followup:
        _finish_followup(ctx, step, "done" if state == "done" else "cancelled")
    add_event(ctx, case, "step", {"n": step.n, "state": state}, text=reason)


def followup_done(ctx: Ctx, followup: FollowUp) -> None:
    """*Done* on a step's reminder ticks the step."""
    step = ctx.session.exec(select(CaseStep).where(CaseStep.followup_id == followup.id)).first()
    case = ctx.session.get(Case, followup.case_id)
    if step is not None and step.state == "open" and case is not None:
        tick(ctx, case, step, "done", via_followup=True)


def _late(ctx: Ctx, step: CaseStep) -> bool:
    return step.state == "open" and step.due_at is not None and step.due_at < ctx.now()


@case_command("case steps", "case steps KE-…", access.STAFF | {Role.adhoc})
def steps_cmd(ctx: Ctx, args: Args, case: Case) -> Reply:
    only_options(args, set())
    rows = case_steps(ctx, case)
    ctx.audit("case.steps", case_ref=case.ref)
    if not rows:
        none = "steps.none" if ctx.profile.procedures_active else "steps.none_inactive"
        return Reply(text=ctx.t(none, ref=case.ref))
    members = {m.id: m for m in ctx.session.exec(select(Member).where(
        col(Member.id).in_({s.assignee_id for s in rows if s.assignee_id})))}
    persons_of = {p.id: format_pseudonym(p.pseudonym) for p in ctx.session.exec(select(Subject).where(
        col(Subject.id).in_({s.subject_id for s in rows if s.subject_id is not None})))}
    lines = []
    for s in rows:
        mark = {"done": "☑", "skipped": "⊘"}.get(s.state, "☐")
        who = (mention(members.get(s.assignee_id)) if s.assignee_id
               else ctx.t(f"agenda.step_role.{s.responsible}") if s.responsible in ROLES
               else ctx.label("org", s.responsible))
        due = ctx.fmt(s.due_at) if s.due_at else when_words(ctx, s.anchor, s.due_offset)
        flags = ("" if not s.required else " " + ctx.t("steps.required")) + \
                (" " + ctx.t("steps.late") if _late(ctx, s) else "")
        person = f" ({persons_of.get(s.subject_id, '')})" if s.subject_id in persons_of else ""
        lines.append(f"{mark} {s.n}. {title_of(ctx, s)}{person} — {who} — {due}{flags}")
    version = case.procedure_version or "—"
    return Reply(title=ctx.t("steps.title", ref=case.ref, version=version), text="\n".join(lines))


STEP_N = re.compile(r"^\d{1,3}$")


@case_command("case step", 'case step KE-… N done|skip [reason="…"] | case step KE-… N assign=@user', access.STAFF)
def step_cmd(ctx: Ctx, args: Args, case: Case) -> Reply:
    only_options(args, {"reason", "assign"}, words=2)
    if not args.words or not STEP_N.match(args.words[0]):
        raise UsageError("step_number", value=(args.words[0] if args.words else "—")[:20])
    step = ctx.session.exec(select(CaseStep).where(CaseStep.case_id == case.id,
                                                   CaseStep.n == int(args.words[0]))).first()
    if step is None:
        raise UsageError("step_unknown", ref=case.ref, n=args.words[0])
    if "assign" in args.options:
        if len(args.words) > 1:
            raise UsageError("unexpected_word", word=args.words[1][:40])
        member = member_by_ref(ctx, args.options["assign"], "assign")
        access.require_assignable(ctx, member, case, "step")
        step.assignee_id = member.id
        ctx.session.add(step)
        if step.followup_id is not None and (f := ctx.session.get(FollowUp, step.followup_id)) is not None:
            f.assignee_id, f.updated_at = member.id, ctx.now()
            ctx.session.add(f)
        add_event(ctx, case, "step", {"n": step.n, "assign": member.user_id})
        ctx.audit("case.step", case_ref=case.ref, detail={"n": step.n, "assign": member.user_id})
        if member.user_id != ctx.inv.user_id:
            ctx.send_dm(member.user_id, Reply(text=ctx.t("steps.assigned_dm", ref=case.ref, n=step.n)))
        return Reply(text=ctx.t("steps.assigned", ref=case.ref, n=step.n, user=mention(member)))
    what = args.words[1].lower() if len(args.words) > 1 else ""
    if what not in STEP_STATES:
        raise UsageError("bad_choice", option="N", value=what or "—", choices="done, skip, assign=@user")
    if step.state != "open":
        raise UsageError("step_finished", ref=case.ref, n=step.n, state=ctx.t(f"steps.state.{step.state}"))
    reason = (args.options.get("reason") or "").strip()
    if what == "skip" and not reason:
        raise UsageError("missing_option", option="reason", choices='"…"')
    if len(reason) > 500:
        raise UsageError("too_long", option="reason", limit=500)
    state = "done" if what == "done" else "skipped"
    tick(ctx, case, step, state, reason or None)
    ctx.audit("case.step", case_ref=case.ref, detail={"n": step.n, "state": state})
    return Reply(text=ctx.t("steps.ticked", ref=case.ref, n=step.n, state=ctx.t(f"steps.state.{state}")))


@case_command("case step add", 'case step add KE-… "…" due=…', access.STAFF)
def step_add(ctx: Ctx, args: Args, case: Case) -> Reply:
    only_options(args, {"due"}, texts=1)
    title = (args.texts[0] if args.texts else "").strip()
    if not title:
        raise UsageError("missing_text")
    if len(title) > 200:
        raise UsageError("too_long", option="text", limit=200)
    if "due" not in args.options:
        raise UsageError("missing_option", option="due", choices="2027-01-15 09:00")
    if CaseState(case.state) not in OPEN_STATES:
        raise UsageError("case_closed", ref=case.ref)
    due = local_datetime(args.options["due"], ctx.tz, ctx.now(), "due")
    if due < ctx.now():
        raise UsageError("due_past")
    n = (ctx.session.exec(select(func.max(CaseStep.n)).where(CaseStep.case_id == case.id)).one() or 0) + 1
    step = CaseStep(case_id=case.id, n=n, responsible="owner", anchor="received", due_offset="0h",  # type: ignore[arg-type]
                    assignee_id=ctx.member.id, due_at=due)
    step.title_ct, step.title_kid = ctx.encrypt(title, sealed.STEP_TITLE.label)
    ct, kid = ctx.encrypt(title, sealed.FOLLOWUP_TEXT.label)
    step.followup_id = rules.add_custom(ctx.session, case, ctx.member.id, due, ct, kid, ctx.now(), kind="step").id
    ctx.session.add(step)
    ctx.session.flush()
    add_event(ctx, case, "step", {"n": n, "added": True})
    ctx.audit("case.step.add", case_ref=case.ref, detail={"n": n})
    return Reply(text=ctx.t("steps.added", ref=case.ref, n=n, due=ctx.fmt(due)))


def close_guard(ctx: Ctx, case: Case, force: bool) -> list[int]:
    """Closing with unfinished required steps needs force=yes; returns the step numbers forced past."""
    if CaseState(case.state) in (CaseState.new, CaseState.qualifying):
        return []  # a concern without substance ends at qualification: its procedure never started
    missing = [s.n for s in unfinished_required(ctx, case)]
    if missing and not force:
        raise UsageError("steps_unfinished", ref=case.ref, steps=", ".join(str(n) for n in missing))
    return missing


def show_field(ctx: Ctx, case: Case) -> FieldLine | None:
    """For `case show`: how far the checklist is."""
    rows = case_steps(ctx, case)
    if not rows:
        return None
    done = sum(1 for s in rows if s.state != "open")
    late = sum(1 for s in rows if _late(ctx, s))
    return FieldLine(ctx.t("steps.field"), ctx.t("steps.progress_n", done=done, total=ctx.tn("n.steps", len(rows)),
                                                        late=late))


def my_steps_field(ctx: Ctx, member: Member, limit: int = 10) -> FieldLine | None:
    """For the App Home: my open steps across cases, soonest first (like `/playbook todo`)."""
    rows = list(ctx.session.exec(
        select(CaseStep, Case.ref).join(Case, col(Case.id) == col(CaseStep.case_id))
        .where(CaseStep.assignee_id == member.id, CaseStep.state == "open",
               col(Case.state).in_([s.value for s in OPEN_STATES]))
        .order_by(col(CaseStep.due_at).is_(None), col(CaseStep.due_at), col(CaseStep.id)).limit(limit)))
    visible = access.visible_case_ids(ctx.session, member)
    rows = [(s, ref) for s, ref in rows if visible is None or s.case_id in visible]  # an old assignment: no door
    if not rows:
        return None
    lines = [f"{ref} · {s.n}. {title_of(ctx, s)} · {ctx.fmt(s.due_at) if s.due_at else '—'}"
             + (f" {ctx.t('steps.late')}" if _late(ctx, s) else "") for s, ref in rows]
    return FieldLine(ctx.t("steps.mine"), "\n".join(lines))
