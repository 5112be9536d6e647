"""The mentor's own work: logging weekly sessions and ending an engagement."""

from __future__ import annotations

from commands import access
from commands.cases import missed_appointments
from commands.cases.offers import engagement_for, settle_state
from commands.cases.record import add_event, subject_by_pseudonym
from commands.context import Ctx
from commands.errors import Refused, UsageError
from commands.followups import rules
from commands.parsing import enum_value, local_datetime, only_options, yes_no
from commands.registry import case_command
from commands.reply import FieldLine, Reply
from commands.tokenizer import Args
from storage import sealed
from storage.enums import CourseResult, EngagementState, OfferKind, Role
from storage.models import Case, MentorSession
from storage.pseudonym import format_pseudonym

MENTOR_AND_STAFF = access.STAFF | {Role.mentor}


def _engagement(ctx: Ctx, args: Args, case: Case):  # noqa: ANN202
    subject = subject_by_pseudonym(ctx, case, args.options.get("subject"))
    kind = enum_value(OfferKind, args.options["kind"], "kind") if "kind" in args.options else None
    own = ctx.member.role == Role.mentor
    try:
        engagement = engagement_for(ctx, case, subject, kind, ctx.member.id if own else None)
    except UsageError:
        if own:
            raise Refused("not_your_engagement", case_ref=case.ref, ref=case.ref) from None
        raise
    return subject, engagement


@case_command("mentor log", 'mentor log KE-… subject=PSEUDONYM [kind=KIND] [date=…] [missed=yes] "text"',
         MENTOR_AND_STAFF)
def log_session(ctx: Ctx, args: Args, case: Case) -> Reply:
    only_options(args, {"subject", "date", "kind", "missed"}, texts=1)
    missed = bool(yes_no(args.options.get("missed"), "missed"))
    text = args.texts[0].strip() if args.texts else ""
    if not text and not missed:
        raise UsageError("missing_text")
    if len(text) > 4000:
        raise UsageError("too_long", option="text", limit=4000)
    held = ctx.now()
    if "date" in args.options:
        held = local_datetime(args.options["date"], ctx.tz, ctx.now(), "date")
        if held > ctx.now():
            raise UsageError("date_future")
    subject, engagement = _engagement(ctx, args, case)
    entry = MentorSession(engagement_id=engagement.id, author_id=ctx.actor.id if ctx.actor else None,  # type: ignore[arg-type]
                          held_at=held, created_at=ctx.now(), missed=missed)
    if text:
        entry.note_ct, entry.note_kid = ctx.encrypt(text, sealed.MENTOR_NOTE.label)
    ctx.session.add(entry)
    ctx.session.flush()
    rules.session_logged(ctx.session, engagement, held, ctx.now())
    data: dict[str, object] = {"subject": subject.pseudonym, "kind": engagement.kind}
    add_event(ctx, case, "mentor_session", data | ({"missed": True} if missed else {}))
    ctx.audit("mentor.log", case_ref=case.ref, detail={"kind": engagement.kind, "missed": missed})
    reply = Reply(text=ctx.t("mentor.missed_logged" if missed else "mentor.logged", ref=case.ref,
                             subject=format_pseudonym(subject.pseudonym), date=ctx.fmt_day(held)))
    if missed and missed_appointments.in_a_row(ctx, engagement) == missed_appointments.ALARM_AFTER:
        reply.fields.append(missed_appointments.alarm(ctx, case, subject, engagement))
    return reply


@case_command("mentor end", "mentor end KE-… subject=PSEUDONYM result=completed|dropped_out|moved|other [kind=KIND]",
         MENTOR_AND_STAFF)
def end(ctx: Ctx, args: Args, case: Case) -> Reply:
    """A course ends with its result: only a completed course gets the 6- and 12-month outcome checks and counts
    in the seed's 70 % targets."""
    only_options(args, {"subject", "kind", "result"})
    result = enum_value(CourseResult, args.options.get("result"), "result").value
    subject, engagement = _engagement(ctx, args, case)
    engagement.state, engagement.ended_at = EngagementState.ended.value, ctx.now()
    engagement.result = result
    ctx.session.add(engagement)
    ctx.session.flush()
    rules.engagement_ended(ctx.session, case, engagement, ctx.now(), ctx.tz)
    add_event(ctx, case, "engagement_ended", {"subject": subject.pseudonym, "kind": engagement.kind,
                                              "result": result})
    settle_state(ctx, case)
    ctx.audit("mentor.end", case_ref=case.ref, detail={"kind": engagement.kind, "result": result})
    reply = Reply(text=ctx.t("mentor.ended", ref=case.ref, subject=format_pseudonym(subject.pseudonym),
                             kind=ctx.label("offer_kind", engagement.kind)),
                  fields=[FieldLine(ctx.t("field.result"), ctx.label("course_result", result))])
    if result != CourseResult.completed:
        reply.fields.append(FieldLine(ctx.t("field.next"), ctx.t("mentor.ended_not_completed")))
    return reply
