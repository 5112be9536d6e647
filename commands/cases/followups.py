"""Follow-ups by hand: list, done (with the 6/12-month outcome), snooze, add. The DM is updated in place."""

from __future__ import annotations

import re

from sqlmodel import col, select

from commands import access
from commands.cases import steps
from commands.cases.record import add_event
from commands.context import Ctx
from commands.errors import Refused, UsageError
from commands.followups import rules
from commands.followups.rules import snooze_until
from commands.markup import mention
from commands.parsing import due_datetime, only_options, yes_no
from commands.registry import case_command, command
from commands.reply import Button, Reply
from commands.tokenizer import Args
from storage import outbox, sealed
from storage.enums import Role
from storage.models import Case, FollowUp, Member, OutboxMessage, Subject
from storage.pseudonym import format_pseudonym

FID = re.compile(r"F-?(\d{1,9})$", re.IGNORECASE)
OUTCOME_KINDS = ("assess_6m", "outcome_12m")


def _load(ctx: Ctx, args: Args) -> tuple[FollowUp, Case]:
    raw = args.words[0] if args.words else ""
    match = FID.match(raw)
    if not match:
        raise UsageError("bad_followup", value=raw[:20] or "—")
    followup = ctx.session.get(FollowUp, int(match.group(1)))
    if followup is None or followup.state not in rules.LIVE:
        raise UsageError("unknown_followup", value=f"F-{match.group(1)}")
    case = ctx.session.get(Case, followup.case_id)
    mine = followup.assignee_id == ctx.member.id
    if not (mine or access.sees_all_cases(ctx.member)) or not access.can_see(ctx.session, ctx.member, case):
        # Assigned is not enough: the one access rule (an engagement that ended, a step given earlier).
        raise Refused("not_your_followup", case_ref=case.ref, id=followup.id)
    return followup, case


def _update_dm(ctx: Ctx, followup: FollowUp, text: str) -> None:
    """Replace the reminder DM (its buttons go) with the new state."""
    if followup.last_message_id is None:
        return
    original = ctx.session.get(OutboxMessage, followup.last_message_id)
    if original is None:
        return
    outbox.enqueue(ctx.session, clock=ctx.svc.clock, vault=ctx.svc.vault, target_kind=original.target_kind,
                   target=original.target, payload=Reply(text=text).to_json(), replaces_id=original.id)


@command("followup list", "followup list [mine|all]", access.EVERYONE)
def followup_list(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set(), words=1)
    which = args.words[0].lower() if args.words else "mine"
    if which not in ("mine", "all"):
        raise UsageError("bad_choice", option="filter", value=which, choices="mine, all")
    stmt = (select(FollowUp, Case.ref).join(Case, col(Case.id) == col(FollowUp.case_id))
            .where(col(FollowUp.state).in_(rules.LIVE)))
    if which == "mine" or not access.sees_all_cases(ctx.member):
        stmt = stmt.where(FollowUp.assignee_id == ctx.member.id)
    visible = access.visible_case_ids(ctx.session, ctx.member)
    if visible is not None:
        stmt = stmt.where(col(FollowUp.case_id).in_(visible))
    rows = list(ctx.session.exec(stmt.order_by(col(FollowUp.due_at), col(FollowUp.id)).limit(100)))
    if not rows:
        return Reply(text=ctx.t("followup.empty", which=ctx.label("list_filter", which)))
    members = {m.id: m for m in ctx.session.exec(select(Member).where(
        col(Member.id).in_({f.assignee_id for f, _ in rows if f.assignee_id})))}
    lines = [ctx.t("followup.line", id=f.id, kind=ctx.label("followup_kind", f.kind), ref=ref, due=ctx.fmt(f.due_at),
                   state=_state(ctx, f), assignee=mention(members.get(f.assignee_id))) for f, ref in rows]
    return Reply(title=ctx.t("followup.title", which=ctx.label("list_filter", which)), text="\n".join(lines))


def _state(ctx: Ctx, followup: FollowUp) -> str:
    """A snoozed follow-up says until when: its due date stays, the reminder comes then."""
    if followup.state == "snoozed" and followup.notify_at is not None:
        return ctx.t("followup.snoozed_until", when=ctx.fmt(followup.notify_at))
    return ctx.label("followup_state", followup.state)


@command("followup done", "followup done F-… [outcome=yes|no]", access.EVERYONE)
def followup_done(ctx: Ctx, args: Args) -> Reply:
    only_options(args, {"outcome"}, words=1)
    followup, case = _load(ctx, args)
    if followup.kind == "visitation":
        raise UsageError("visitation_by_referral", ref=case.ref)
    if followup.kind == "mentor_checkin":
        rules.mark(followup, "pending", ctx.now(), ctx.now() + rules.CHECKIN_AFTER)
        ctx.session.add(followup)
        ctx.audit("followup.ack", case_ref=case.ref, detail={"id": followup.id})
        return Reply(text=ctx.t("followup.checkin_ack", id=followup.id))
    outcome = yes_no(args.options.get("outcome"), "outcome")
    if followup.kind in OUTCOME_KINDS:
        if outcome is None:  # Done on the reminder: ask the question, the answer is a button
            return _outcome_question(ctx, followup, case)
        add_event(ctx, case, "outcome", {"kind": followup.kind, "outcome": outcome,
                                         "engagement": followup.engagement_id})
    rules.mark(followup, "done", ctx.now())
    ctx.session.add(followup)
    if followup.kind == "step":
        steps.followup_done(ctx, followup)  # Done on a step's reminder ticks the step
    ctx.audit("followup.done", case_ref=case.ref, detail={"id": followup.id, "kind": followup.kind})
    _update_dm(ctx, followup, ctx.t("followup.done_dm", id=followup.id, ref=case.ref, user=mention(ctx.inv.user_id)))
    return Reply(text=ctx.t("followup.done_reply", id=followup.id, ref=case.ref))


def _outcome_question(ctx: Ctx, followup: FollowUp, case: Case) -> Reply:
    fid = f"F-{followup.id}"
    subject = ctx.session.get(Subject, followup.subject_id) if followup.subject_id else None
    who = format_pseudonym(subject.pseudonym) if subject else case.ref
    question = (ctx.t("outcome.question.assess_6m", subject=who, ref=case.ref) if followup.kind == "assess_6m"
                else ctx.t("outcome.question.outcome_12m", subject=who, ref=case.ref))
    return Reply(title=f"{fid} · {case.ref}", text=question,
                 buttons=[Button(ctx.t("outcome.yes"), "followup.outcome_yes", fid, f"followup done {fid} outcome=yes",
                                 style="primary"),
                          Button(ctx.t("outcome.no"), "followup.outcome_no", fid, f"followup done {fid} outcome=no")])


@command("followup snooze", "followup snooze F-… [1d|1w]", access.EVERYONE)
def followup_snooze(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set(), words=2)
    period = args.words[1].lower() if len(args.words) > 1 else "1d"
    if period not in ("1d", "1w"):
        raise UsageError("bad_snooze")
    followup, case = _load(ctx, args)
    until = snooze_until(ctx.now(), period, ctx.cal)
    stage = followup.stage
    rules.mark(followup, "snoozed", ctx.now(), until)
    followup.stage = stage
    ctx.session.add(followup)
    ctx.audit("followup.snooze", case_ref=case.ref, detail={"id": followup.id, "period": period})
    _update_dm(ctx, followup, ctx.t("followup.snoozed_dm", id=followup.id, ref=case.ref, until=ctx.fmt(until),
                                    user=mention(ctx.inv.user_id)))
    return Reply(text=ctx.t("followup.snoozed_reply", id=followup.id, ref=case.ref, until=ctx.fmt(until)))


@case_command("followup add", 'followup add KE-… due=… "text"', access.STAFF | {Role.adhoc})
def followup_add(ctx: Ctx, args: Args, case: Case) -> Reply:
    only_options(args, {"due"}, texts=1)
    if not args.texts or not args.texts[0].strip():
        raise UsageError("missing_text")
    if len(args.texts[0]) > 1000:
        raise UsageError("too_long", option="text", limit=1000)
    if "due" not in args.options:
        raise UsageError("missing_option", option="due", choices="2027-01-15 09:00")
    due = due_datetime(args.options["due"], ctx.tz, ctx.now(), "due")
    if due < ctx.now():
        raise UsageError("due_past")
    ct, kid = ctx.encrypt(args.texts[0].strip(), sealed.FOLLOWUP_TEXT.label)
    followup = rules.add_custom(ctx.session, case, ctx.member.id, due, ct, kid, ctx.now())
    add_event(ctx, case, "followup", {"id": followup.id, "kind": "custom"})
    ctx.audit("followup.add", case_ref=case.ref, detail={"id": followup.id})
    return Reply(text=ctx.t("followup.added", id=followup.id, ref=case.ref, due=ctx.fmt(due)))
