"""Changes to a case as it goes (SPEC.md §10): its severity, and a prison case's expected release date.

`case severity KE-… LEVEL reason="…"` (the owner or the secretariat): a case not yet referred gets a new
visitation deadline counted from the change — never later than the one in force — and its reminder is planned
again; a referred case keeps the deadline it was referred under (the visitation target judges that one). The
unit channel is told the reference and the new level only; the reason is free text, on the timeline.

`case release-date KE-… YYYY-MM-DD`: the expected release; the profile's prison procedure (anchor `release`,
offsets counted back from it) joins the case's checklist, due from six months before."""

from __future__ import annotations

from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlmodel import col, func, select

from commands import access
from commands.cases import steps
from commands.cases.record import add_event
from commands.context import Ctx
from commands.errors import UsageError
from commands.followups import rules
from commands.parsing import enum_value, local_datetime, only_options
from commands.registry import case_command
from commands.reply import FieldLine, Reply
from commands.tokenizer import Args
from storage.enums import OPEN_STATES, CaseState, Severity
from storage.models import Case, FollowUp, Subject
from storage.profile import store
from storage.profile.tables import CaseStep

UNREFERRED = (CaseState.new, CaseState.qualifying)


def _may_change(ctx: Ctx, case: Case) -> bool:
    """The secretariat, the case's owner, or the owner of one of its persons (a family's)."""
    actor = ctx.actor
    if actor is None:
        return False
    if access.role_of(actor) in access.LEADS or actor.id == case.owner_id:
        return True
    return ctx.session.exec(select(Subject.id).where(Subject.case_id == case.id,
                                                     Subject.owner_id == actor.id)).first() is not None


@case_command("case severity", 'case severity KE-… critical|high|normal reason="…"', access.STAFF)
def severity(ctx: Ctx, args: Args, case: Case) -> Reply:
    only_options(args, {"reason"}, words=1)
    if not _may_change(ctx, case):
        raise UsageError("severity_owner_only", ref=case.ref)
    level = enum_value(Severity, args.words[0] if args.words else None, "severity").value
    reason = (args.options.get("reason") or "").strip()
    if not reason:
        raise UsageError("missing_option", option="reason", choices='"…"')
    if len(reason) > 500:
        raise UsageError("too_long", option="reason", limit=500)
    if CaseState(case.state) not in OPEN_STATES:
        raise UsageError("case_closed", ref=case.ref)
    if level == case.severity:
        raise UsageError("severity_same", ref=case.ref, severity=ctx.label("severity", level))
    old, case.severity = case.severity, level
    data: dict[str, object] = {"from": old, "to": level}
    moved = False
    if CaseState(case.state) in UNREFERRED:
        deadline = min(case.deadline_at, ctx.now() + timedelta(hours=ctx.profile.visitation(level)))
        moved = deadline < case.deadline_at
        case.deadline_at = deadline
        data["deadline"] = deadline.isoformat()
    ctx.session.add(case)
    rules.severity_changed(ctx.session, case, ctx.now(), moved)
    add_event(ctx, case, "severity", data, text=reason)
    ctx.audit("case.severity", case_ref=case.ref, detail={"from": old, "to": level, "deadline_moved": moved})
    ctx.post_channel("unit", Reply(text=ctx.t("severity.notice", ref=case.ref, severity=ctx.label("severity", level))))
    reply = Reply(text=ctx.t("severity.changed", ref=case.ref, old=ctx.label("severity", old),
                             new=ctx.label("severity", level)))
    if CaseState(case.state) in UNREFERRED:
        key = "severity.deadline_moved" if moved else "severity.deadline_kept"
        reply.fields.append(FieldLine(ctx.t("field.deadline"), ctx.t(key, deadline=ctx.fmt(case.deadline_at),
                                                                      relative=ctx.fmt_until(case.deadline_at))))
    else:
        reply.fields.append(FieldLine(ctx.t("field.deadline"), ctx.t("severity.referred_kept")))
    if level == Severity.critical:
        reply.fields.append(FieldLine(ctx.t("field.next"), ctx.t("severity.adhoc_hint", ref=case.ref)))
    return reply


def _release_steps(ctx: Ctx, case: Case) -> list[CaseStep]:
    return list(ctx.session.exec(select(CaseStep).where(CaseStep.case_id == case.id, CaseStep.anchor == "release")
                                 .order_by(col(CaseStep.n))))


def _start_prison_procedure(ctx: Ctx, case: Case) -> tuple[int, int]:
    """The profile's prison steps join the checklist (once), each due from the release date counted back
    (never before now: a step cannot be due before it exists); steps already there move with a new date.
    Returns (added, moved)."""
    assert case.release_at is not None
    existing = _release_steps(ctx, case)
    moved = 0
    for step in existing:
        if step.state != "open":
            continue
        due = max(steps.due_from(case.release_at, step.due_offset, ctx), ctx.now())
        live = ctx.session.get(FollowUp, step.followup_id) if step.followup_id is not None else None
        if live is None or live.state not in rules.LIVE:
            steps.schedule(ctx, case, step, case.release_at)
        _due_not_before(ctx, step, due)
        moved += 1
    if any(s.profile_version is not None and s.subject_id is None for s in existing):
        return 0, moved
    current = store.current(ctx.session, ctx.settings)
    if not current.profile.procedures_active or not current.profile.prison_procedure:
        return 0, moved
    start = ctx.session.exec(select(func.max(CaseStep.n)).where(CaseStep.case_id == case.id)).one() or 0
    added = 0
    for n, spec in enumerate(current.profile.prison_procedure, start=start + 1):
        step = CaseStep(case_id=case.id, n=n, profile_version=current.version,  # type: ignore[arg-type]
                        title_da=spec.title.da, title_en=spec.title.en, responsible=spec.responsible,
                        anchor=spec.anchor, due_offset=spec.due, required=spec.required_before_close,
                        on_agenda_when_late=spec.on_agenda_when_late)
        step.assignee_id = steps.assignee(ctx, case, spec.responsible)
        ctx.session.add(step)
        ctx.session.flush()
        due = max(steps.due_from(case.release_at, spec.due, ctx), ctx.now())
        steps.schedule(ctx, case, step, case.release_at)
        _due_not_before(ctx, step, due)
        added += 1
    ctx.session.flush()  # the case's own procedure still comes at qualification (numbered after these)
    return added, moved


def _due_not_before(ctx: Ctx, step: CaseStep, due: datetime) -> None:
    """The step (and its reminder) due at `due`: the release date counted back, or now if that has passed."""
    step.due_at = due
    if step.followup_id is not None and (f := ctx.session.get(FollowUp, step.followup_id)) is not None:
        f.due_at = f.notify_at = due
        f.state, f.updated_at = "pending", ctx.now()
        ctx.session.add(f)
    ctx.session.add(step)


@case_command("case release-date", "case release-date KE-… YYYY-MM-DD", access.STAFF)
def release_date(ctx: Ctx, args: Args, case: Case) -> Reply:
    only_options(args, set(), words=1)
    if not args.words:
        raise UsageError("missing_option", option="date", choices="2027-06-30")
    day = local_datetime(args.words[0], ctx.tz, ctx.now(), "date").astimezone(ctx.tz).date()
    if CaseState(case.state) not in OPEN_STATES:
        raise UsageError("case_closed", ref=case.ref)
    release = ctx.cal.at(day)
    if release < ctx.now():
        raise UsageError("release_past", date=args.words[0][:20])
    case.release_at = release
    ctx.session.add(case)
    added, moved = _start_prison_procedure(ctx, case)
    add_event(ctx, case, "release_date", {"date": day.isoformat(), **({"added": added} if added else {})})
    ctx.audit("case.release_date", case_ref=case.ref, detail={"added": added, "moved": moved})
    dues = [s.due_at for s in _release_steps(ctx, case) if s.due_at is not None and s.state == "open"]
    start = min(dues) if dues else ctx.cal.at((ctx.local(release) - relativedelta(months=6)).date())
    if not (added or moved):
        return Reply(text=ctx.t("release.set_only", ref=case.ref, date=ctx.fmt_day(release)),
                     fields=[FieldLine(ctx.t("steps.field"), ctx.t("release.no_procedure"))])
    reply = Reply(text=ctx.t("release.set", ref=case.ref, date=ctx.fmt_day(release), start=ctx.fmt_day(start)))
    if added:
        reply.fields.append(FieldLine(ctx.t("steps.field"), ctx.tn("release.steps_added", added)))
    else:
        reply.fields.append(FieldLine(ctx.t("steps.field"), ctx.tn("release.steps_moved", moved)))
    return reply
