"""The case lifecycle: qualify, register checks, refer (visitation deadline), close, reopen."""

from __future__ import annotations

from sqlmodel import col, select

from commands import access, confirm
from commands.cases import disclosures, persons, steps
from commands.cases.record import add_event, deadline_for, subject_by_pseudonym, subjects_of, transition
from commands.context import Ctx
from commands.errors import UsageError
from commands.followups import rules
from commands.markup import mention
from commands.members.people import member_by_ref
from commands.parsing import enum_value, only_options, org_code, yes_no
from commands.registry import case_command
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
from storage.models import Case, CaseCheck, Engagement, FollowUp, Member, Offer, Subject
from storage.pseudonym import format_pseudonym

QUALIFYING = {CaseState.new, CaseState.qualifying}
AFTER_REFERRAL = {CaseState.referred, CaseState.active, CaseState.follow_up}
KEPT_AT_CLOSE = ("visitation", "assess_6m", "outcome_12m")  # ends with the case / outlives it: nothing to ask


def missing_checks(ctx: Ctx, case: Case) -> list[str]:
    done = set(ctx.session.exec(select(CaseCheck.org).where(CaseCheck.case_id == case.id)))
    return [org for org in ctx.profile.checking_orgs if org not in done]


def _orgs(ctx: Ctx, codes: list[str]) -> str:
    return ", ".join(ctx.label("org", code) for code in codes)


def _start_qualifying(ctx: Ctx, case: Case) -> None:
    if case.state == CaseState.new:
        transition(ctx, case, CaseState.qualifying, {CaseState.new})
    steps.attach(ctx, case)


@case_command("case qualify", "case qualify KE-… [level=preventive|pre_emptive|intervening]", access.STAFF)
def qualify(ctx: Ctx, args: Args, case: Case) -> Reply:
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


@case_command("case checked", "case checked KE-… org=ORG [found=yes|no]", access.STAFF)
def checked(ctx: Ctx, args: Args, case: Case) -> Reply:
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
    disclosures.record(ctx, case, org, case.basis, disclosures.CHECK, "check")
    ctx.audit("case.checked", case_ref=case.ref, detail={"org": org})
    missing = missing_checks(ctx, case)
    return Reply(text=ctx.t("case.checked", ref=case.ref, org=ctx.label("org", org)), fields=[
        FieldLine(ctx.t("field.missing_checks"), _orgs(ctx, missing) or ctx.t("none")),
    ])


@case_command("case refer", "case refer KE-… to=ORG [owner=@user] [subject=PSEUDONYM]", access.STAFF)
def refer(ctx: Ctx, args: Args, case: Case) -> Reply:
    """The case is referred at its first referral (met or missed is recorded then); in a family case each person
    may be referred on their own (`subject=`), to their own authority, before or after that."""
    only_options(args, {"to", "owner", "subject"}, words=0)
    org = org_code(ctx.profile.org_codes(), args.options.get("to"), "to", ctx.profile)
    owner = member_by_ref(ctx, args.options["owner"], "owner") if "owner" in args.options else None
    person = subject_by_pseudonym(ctx, case, args.options["subject"]) if "subject" in args.options else None
    if person is not None and CaseState(case.state) in AFTER_REFERRAL:
        return _refer_person(ctx, case, person, org, owner)
    if person is None and CaseState(case.state) in AFTER_REFERRAL:
        waiting = [format_pseudonym(s.pseudonym) for s in subjects_of(ctx, case) if s.referred_at is None]
        if waiting:  # a family referred in part: say whom to refer, rather than "already referred"
            raise UsageError("refer_which_person", ref=case.ref, subjects=", ".join(waiting))
    if case.level is None and CaseState(case.state) in QUALIFYING:
        raise UsageError("level_first", ref=case.ref)
    if owner is not None:
        access.require_assignable(ctx, owner, case, "owner")
    transition(ctx, case, CaseState.referred, QUALIFYING, {"org": org})
    now = ctx.now()
    case.referred_at, case.responsible_org = now, org
    case.deadline_met = now <= case.deadline_at
    if owner is not None:
        case.owner_id = owner.id
    ctx.session.add(case)
    for subject in ([person] if person is not None else subjects_of(ctx, case)):
        _person_referred(ctx, subject, org, owner, case)
    rules.resolve_visitation(ctx.session, case, now)
    rules.owner_changed(ctx.session, case, now)
    steps.anchor_reached(ctx, case, "referred", person.id if person is not None else None)
    add_event(ctx, case, "referred", {"to": org, "owner": owner.user_id if owner else None,
                                      "deadline_met": case.deadline_met,
                                      **({"subject": person.pseudonym} if person is not None else {})})
    disclosures.record(ctx, case, org, case.basis, disclosures.REFERRAL, "referral", person)
    ctx.audit("case.refer", case_ref=case.ref, detail={"to": org, "deadline_met": case.deadline_met})
    met = ctx.t("deadline.met") if case.deadline_met else ctx.t("deadline.missed")
    ctx.post_channel("unit", Reply(text=ctx.t("refer.notice", ref=case.ref, org=ctx.label("org", org), met=met)))
    if owner is not None and owner.user_id != ctx.inv.user_id:
        ctx.send_dm(owner.user_id, Reply(text=ctx.t("refer.owner_dm", ref=case.ref, org=ctx.label("org", org))))
    missing = missing_checks(ctx, case)
    reply = Reply(text=ctx.t("case.referred", ref=case.ref, org=ctx.label("org", org), owner=mention(owner),
                             met=met))
    if person is not None:
        reply.fields.append(FieldLine(ctx.t("field.person"), persons.person_line(ctx, case, person)))
        unreferred = [format_pseudonym(s.pseudonym) for s in subjects_of(ctx, case) if s.referred_at is None]
        if unreferred:
            reply.fields.append(FieldLine(ctx.t("field.not_referred"), ", ".join(unreferred)))
    if missing:
        reply.fields.append(FieldLine(ctx.t("field.missing_checks"), _orgs(ctx, missing)))
    return reply


def _person_referred(ctx: Ctx, subject: Subject, org: str, owner: Member | None, case: Case) -> None:
    subject.responsible_org, subject.referred_at = org, ctx.now()
    subject.owner_id = owner.id if owner is not None else (subject.owner_id or case.owner_id)
    ctx.session.add(subject)


def _refer_person(ctx: Ctx, case: Case, person: Subject, org: str, owner: Member | None) -> Reply:
    """One person of a case already referred: their own authority (and owner); the case's stay."""
    _person_referred(ctx, person, org, owner, case)
    ctx.session.flush()
    steps.anchor_reached(ctx, case, "referred", person.id)
    rules.person_owner_changed(ctx.session, case, person, ctx.now())
    add_event(ctx, case, "person_referred", {"subject": person.pseudonym, "to": org,
                                             "owner": owner.user_id if owner else None})
    disclosures.record(ctx, case, org, case.basis, disclosures.REFERRAL, "referral", person)
    ctx.audit("case.refer", case_ref=case.ref, detail={"to": org, "person": True})
    pseudonym = format_pseudonym(person.pseudonym)
    ctx.post_channel("unit", Reply(text=ctx.t("refer.person_notice", ref=case.ref, subject=pseudonym,
                                              org=ctx.label("org", org))))
    if owner is not None and owner.user_id != ctx.inv.user_id:
        ctx.send_dm(owner.user_id, Reply(text=ctx.t("refer.person_owner_dm", ref=case.ref, subject=pseudonym,
                                                    org=ctx.label("org", org))))
    return Reply(text=ctx.t("case.person_referred", ref=case.ref, subject=pseudonym, org=ctx.label("org", org),
                            owner=mention(owner)),
                 fields=[FieldLine(ctx.t("field.person"), persons.person_line(ctx, case, person))])


@case_command("case close", "case close KE-… reason=REASON", access.STAFF)
def close(ctx: Ctx, args: Args, case: Case) -> Reply:
    only_options(args, {"reason", "force"})
    reason = enum_value(CloseReason, args.options.get("reason"), "reason")
    force = bool(yes_no(args.options.get("force"), "force"))
    active = ctx.session.exec(select(Engagement.id).where(
        Engagement.case_id == case.id, Engagement.state == EngagementState.active)).first()
    if active is not None:
        raise UsageError("close_engagements", ref=case.ref)
    forced = steps.close_guard(ctx, case, force)
    question = _close_question(ctx, case, reason.value, steps_accepted=force)
    if question is not None:
        return question
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


def _close_question(ctx: Ctx, case: Case, reason: str, steps_accepted: bool = False) -> Reply | None:
    """Open follow-ups, open steps or pending offers end with the case: say which, and ask first. With
    `force=yes` the user has already accepted closing past open steps: only follow-ups and offers are asked."""
    if CaseState(case.state) not in OPEN_STATES:
        return None  # transition() says why a closed case cannot be closed
    followups = list(ctx.session.exec(select(FollowUp).where(
        FollowUp.case_id == case.id, col(FollowUp.state).in_(rules.LIVE),
        col(FollowUp.kind).not_in(KEPT_AT_CLOSE), FollowUp.kind != "step").order_by(col(FollowUp.due_at))))
    open_steps = [] if CaseState(case.state) in QUALIFYING or steps_accepted else [
        s for s in steps.case_steps(ctx, case) if s.state == "open" and s.anchor != "closed"]
    offers = list(ctx.session.exec(select(Offer).where(Offer.case_id == case.id, Offer.state == OfferState.pending)
                                   .order_by(col(Offer.id))))
    if not (followups or open_steps or offers):
        return None
    lines = [ctx.t("close.confirm_what", ref=case.ref, reason=ctx.label("close_reason", reason))]
    if followups:
        lines.append(ctx.tn("close.confirm_followups", len(followups), items="; ".join(
            f"F-{f.id} {ctx.label('followup_kind', f.kind)} ({ctx.fmt_day(f.due_at)})" for f in followups)))
    if open_steps:
        lines.append(ctx.tn("close.confirm_steps", len(open_steps), items="; ".join(
            f"{s.n}. {steps.title_of(ctx, s)}" for s in open_steps)))
    if offers:
        subjects = {s.id: format_pseudonym(s.pseudonym) for s in subjects_of(ctx, case)}
        lines.append(ctx.tn("close.confirm_offers", len(offers), items="; ".join(
            f"{subjects.get(o.subject_id, '—')} {ctx.label('offer_kind', o.kind)}" for o in offers)))
    state = "|".join(["close", case.ref, reason, *(f"F{f.id}" for f in followups), *(f"S{s.n}" for s in open_steps),
                      *(f"O{o.id}" for o in offers)])
    return confirm.ask(ctx, state, lines, ctx.t("close.confirm_button"), danger=True)


@case_command("case reopen", "case reopen KE-…", access.STAFF)
def reopen(ctx: Ctx, args: Args, case: Case) -> Reply:
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
