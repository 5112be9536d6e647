"""The case lifecycle: qualify, register checks, refer (visitation deadline), close, reopen."""

from __future__ import annotations

from sqlmodel import select

from commands import access
from commands.cases import steps
from commands.common import add_event, deadline_for, member_by_ref, mention, only_options, transition
from commands.context import Ctx
from commands.errors import UsageError
from commands.followups import rules
from commands.parsing import enum_value, org_code, yes_no
from commands.registry import command
from commands.reply import FieldLine, Reply
from commands.tokenizer import Args
from storage.enums import (
    OPEN_STATES,
    CaseState,
    CloseReason,
    EngagementState,
    Level,
    OfferState,
)
from storage.models import Case, CaseCheck, Engagement, Offer

QUALIFYING = {CaseState.new, CaseState.qualifying}


def missing_checks(ctx: Ctx, case: Case) -> list[str]:
    done = set(ctx.session.exec(select(CaseCheck.org).where(CaseCheck.case_id == case.id)))
    return [org for org in ctx.profile.checking_orgs if org not in done]


def _orgs(ctx: Ctx, codes: list[str]) -> str:
    return ", ".join(ctx.label("org", code) for code in codes)


def _start_qualifying(ctx: Ctx, case: Case) -> None:
    if case.state == CaseState.new:
        transition(ctx, case, CaseState.qualifying, {CaseState.new})
    steps.attach(ctx, case)


@command("case qualify", "case qualify KE-… [level=preventive|pre_emptive|intervening]", access.STAFF,
         case_arg=True)
def qualify(ctx: Ctx, args: Args, case: Case | None) -> Reply:
    assert case is not None
    only_options(args, {"level"})
    if CaseState(case.state) not in QUALIFYING:
        raise UsageError("bad_state", ref=case.ref, state=ctx.label("state", case.state),
                         to=ctx.label("state", CaseState.qualifying.value),
                         allowed=", ".join(ctx.label("state", s) for s in ("new", "qualifying")))
    _start_qualifying(ctx, case)
    if "level" in args.options:
        level = enum_value(Level, args.options["level"], "level")
        case.level = level.value
        add_event(ctx, case, "level", {"level": level.value})
    ctx.audit("case.qualify", case_ref=case.ref, detail={"level": case.level})
    missing = missing_checks(ctx, case)
    return Reply(text=ctx.t("case.qualifying", ref=case.ref, level=ctx.label("level", case.level)), fields=[
        FieldLine(ctx.t("field.missing_checks"), _orgs(ctx, missing) or ctx.t("none")),
    ])


@command("case checked", "case checked KE-… org=ORG [found=yes|no]", access.STAFF, case_arg=True)
def checked(ctx: Ctx, args: Args, case: Case | None) -> Reply:
    assert case is not None
    only_options(args, {"org", "found"})
    org = org_code(ctx.profile.checking_orgs, args.options.get("org"), "org", ctx.profile)
    found = yes_no(args.options.get("found"), "found")
    if CaseState(case.state) not in OPEN_STATES:
        raise UsageError("case_closed", ref=case.ref)
    _start_qualifying(ctx, case)
    check = ctx.session.exec(select(CaseCheck).where(CaseCheck.case_id == case.id, CaseCheck.org == org)).first()
    if check is None:
        check = CaseCheck(case_id=case.id, org=org, at=ctx.now())  # type: ignore[arg-type]
    check.found, check.member_id, check.at = found, ctx.actor.id if ctx.actor else None, ctx.now()
    ctx.session.add(check)
    ctx.session.flush()
    add_event(ctx, case, "checked", {"org": org, "found": found})
    ctx.audit("case.checked", case_ref=case.ref, detail={"org": org})
    missing = missing_checks(ctx, case)
    return Reply(text=ctx.t("case.checked", ref=case.ref, org=ctx.label("org", org)), fields=[
        FieldLine(ctx.t("field.missing_checks"), _orgs(ctx, missing) or ctx.t("none")),
    ])


@command("case refer", "case refer KE-… to=ORG [owner=@user]", access.STAFF, case_arg=True)
def refer(ctx: Ctx, args: Args, case: Case | None) -> Reply:
    assert case is not None
    only_options(args, {"to", "owner"}, words=0)
    org = org_code(ctx.profile.org_codes(), args.options.get("to"), "to", ctx.profile)
    owner = member_by_ref(ctx, args.options["owner"], "owner") if "owner" in args.options else None
    if case.level is None and CaseState(case.state) in QUALIFYING:
        raise UsageError("level_first", ref=case.ref)
    transition(ctx, case, CaseState.referred, QUALIFYING, {"org": org})
    now = ctx.now()
    case.referred_at, case.responsible_org = now, org
    case.deadline_met = now <= case.deadline_at
    if owner is not None:
        case.owner_id = owner.id
    ctx.session.add(case)
    rules.resolve_visitation(ctx.session, case, now)
    rules.owner_changed(ctx.session, case, now)
    steps.anchor_reached(ctx, case, "referred")
    add_event(ctx, case, "referred", {"to": org, "owner": owner.user_id if owner else None,
                                      "deadline_met": case.deadline_met})
    ctx.audit("case.refer", case_ref=case.ref, detail={"to": org, "deadline_met": case.deadline_met})
    met = ctx.t("deadline.met") if case.deadline_met else ctx.t("deadline.missed")
    ctx.post_channel("unit", Reply(text=ctx.t("refer.notice", ref=case.ref, org=ctx.label("org", org), met=met)))
    if owner is not None and owner.user_id != ctx.inv.user_id:
        ctx.send_dm(owner.user_id, Reply(text=ctx.t("refer.owner_dm", ref=case.ref, org=ctx.label("org", org))))
    missing = missing_checks(ctx, case)
    reply = Reply(text=ctx.t("case.referred", ref=case.ref, org=ctx.label("org", org), owner=mention(owner),
                             met=met))
    if missing:
        reply.fields.append(FieldLine(ctx.t("field.missing_checks"), _orgs(ctx, missing)))
    return reply


@command("case close", "case close KE-… reason=REASON", access.STAFF, case_arg=True)
def close(ctx: Ctx, args: Args, case: Case | None) -> Reply:
    assert case is not None
    only_options(args, {"reason", "force"})
    reason = enum_value(CloseReason, args.options.get("reason"), "reason")
    force = bool(yes_no(args.options.get("force"), "force"))
    active = ctx.session.exec(select(Engagement.id).where(
        Engagement.case_id == case.id, Engagement.state == EngagementState.active)).first()
    if active is not None:
        raise UsageError("close_engagements", ref=case.ref)
    forced = steps.close_guard(ctx, case, force)
    transition(ctx, case, CaseState.closed, set(OPEN_STATES), {"reason": reason.value})
    for offer in ctx.session.exec(select(Offer).where(Offer.case_id == case.id,
                                                      Offer.state == OfferState.pending)):
        offer.state, offer.responded_at = OfferState.withdrawn.value, ctx.now()
        ctx.session.add(offer)
    case.closed_at, case.close_reason = ctx.now(), reason.value
    ctx.session.add(case)
    rules.case_closed(ctx.session, case, ctx.now())
    steps.anchor_reached(ctx, case, "closed")
    if forced:
        add_event(ctx, case, "steps_forced", {"steps": forced, "reason": reason.value})
    detail: dict[str, object] = {"reason": reason.value, **({"forced": forced} if forced else {})}
    ctx.audit("case.close", case_ref=case.ref, detail=detail)
    reason_word = ctx.label("close_reason", reason.value)
    ctx.post_channel("unit", Reply(text=ctx.t("close.notice", ref=case.ref, reason=reason_word)))
    return Reply(text=ctx.t("case.closed", ref=case.ref, reason=reason_word))


@command("case reopen", "case reopen KE-…", access.STAFF, case_arg=True)
def reopen(ctx: Ctx, args: Args, case: Case | None) -> Reply:
    assert case is not None
    only_options(args, set())
    transition(ctx, case, CaseState.qualifying, {CaseState.closed})
    # A reopened case is qualified and referred afresh, within the same 24/48/72 h from the reopening.
    case.closed_at, case.close_reason = None, None
    case.referred_at, case.deadline_met = None, None
    case.deadline_at = ctx.now() + deadline_for(ctx, case)
    ctx.session.add(case)
    rules.open_visitation(ctx.session, case, ctx.now(), start=ctx.now())
    add_event(ctx, case, "visitation_restarted", {"deadline": case.deadline_at.isoformat()})
    ctx.audit("case.reopen", case_ref=case.ref)
    ctx.post_channel("unit", Reply(text=ctx.t("reopen.notice", ref=case.ref)))
    return Reply(text=ctx.t("case.reopened", ref=case.ref, deadline=ctx.fmt(case.deadline_at)))
