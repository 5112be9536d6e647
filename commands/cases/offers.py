"""Offers per subject, the adult-consent rule, and engagements with an assigned mentor."""

from __future__ import annotations

from sqlmodel import col, select

from commands import access
from commands.cases import steps
from commands.cases.record import add_event, subject_by_pseudonym, transition
from commands.context import Ctx
from commands.errors import UsageError
from commands.followups import rules
from commands.markup import mention
from commands.members.people import member_by_ref
from commands.parsing import enum_value, only_options, yes_no
from commands.registry import case_command
from commands.reply import Reply
from commands.tokenizer import Args
from storage.enums import ADULT_BANDS, AgeBand, CaseState, EngagementState, OfferKind, OfferState, Role
from storage.models import Case, Engagement, Offer, Subject
from storage.pseudonym import format_pseudonym

AFTER_REFERRAL = {CaseState.referred, CaseState.active, CaseState.follow_up}


def _require_after_referral(ctx: Ctx, case: Case) -> None:
    if CaseState(case.state) not in AFTER_REFERRAL:
        raise UsageError("bad_state", ref=case.ref, state=ctx.label("state", case.state),
                         to=ctx.label("event", "offer"),
                         allowed=", ".join(ctx.label("state", s.value) for s in CaseState if s in AFTER_REFERRAL))


def has_active_engagement(ctx: Ctx, case: Case) -> bool:
    return ctx.session.exec(select(Engagement.id).where(
        Engagement.case_id == case.id, Engagement.state == EngagementState.active)).first() is not None


def settle_state(ctx: Ctx, case: Case) -> None:
    """active while an engagement runs; follow_up when none runs and nothing is pending."""
    state = CaseState(case.state)
    if has_active_engagement(ctx, case):
        if state in (CaseState.referred, CaseState.follow_up):
            transition(ctx, case, CaseState.active, {state})
        return
    pending = ctx.session.exec(select(Offer.id).where(
        Offer.case_id == case.id, Offer.state == OfferState.pending)).first()
    if pending is None and state in (CaseState.referred, CaseState.active):
        transition(ctx, case, CaseState.follow_up, {state})


@case_command("case offer", "case offer KE-… subject=PSEUDONYM kind=KIND", access.STAFF)
def offer(ctx: Ctx, args: Args, case: Case) -> Reply:
    only_options(args, {"subject", "kind"})
    subject = subject_by_pseudonym(ctx, case, args.options.get("subject"))
    kind = enum_value(OfferKind, args.options.get("kind"), "kind")
    _require_after_referral(ctx, case)
    pending = ctx.session.exec(select(Offer.id).where(
        Offer.subject_id == subject.id, Offer.kind == kind, Offer.state == OfferState.pending)).first()
    if pending is not None:
        raise UsageError("offer_pending", subject=format_pseudonym(subject.pseudonym), kind=kind.value)
    made = Offer(case_id=case.id, subject_id=subject.id, kind=kind.value,  # type: ignore[arg-type]
                 state=OfferState.pending.value, offered_by=ctx.actor.id if ctx.actor else None,
                 offered_at=ctx.now())
    ctx.session.add(made)
    ctx.session.flush()
    rules.offer_made(ctx.session, made, ctx.now())
    add_event(ctx, case, "offer", {"subject": subject.pseudonym, "kind": kind.value})
    ctx.audit("case.offer", case_ref=case.ref, detail={"kind": kind.value})
    return Reply(text=ctx.t("offer.made", ref=case.ref, subject=format_pseudonym(subject.pseudonym),
                            kind=ctx.label("offer_kind", kind.value)))


@case_command("case respond", "case respond KE-… subject=PSEUDONYM kind=KIND accepted|declined [consent=yes]",
         access.STAFF)
def respond(ctx: Ctx, args: Args, case: Case) -> Reply:
    only_options(args, {"subject", "kind", "consent"}, words=1)
    subject = subject_by_pseudonym(ctx, case, args.options.get("subject"))
    kind = enum_value(OfferKind, args.options.get("kind"), "kind")
    answer = (args.words[0].lower() if args.words else "")
    if answer not in ("accepted", "declined"):
        raise UsageError("missing_response")
    consent = yes_no(args.options.get("consent"), "consent") or False
    the_offer = ctx.session.exec(select(Offer).where(
        Offer.subject_id == subject.id, Offer.kind == kind, Offer.state == OfferState.pending)
        .order_by(col(Offer.id).desc())).first()
    if the_offer is None:
        raise UsageError("no_pending_offer", subject=format_pseudonym(subject.pseudonym), kind=kind.value)
    if answer == "accepted" and AgeBand(subject.age_band) in ADULT_BANDS and not consent:
        raise UsageError("consent_required", subject=format_pseudonym(subject.pseudonym))
    the_offer.state = OfferState.accepted.value if answer == "accepted" else OfferState.declined.value
    the_offer.consent, the_offer.responded_at = consent, ctx.now()
    ctx.session.add(the_offer)
    ctx.session.flush()
    add_event(ctx, case, "offer_response", {"subject": subject.pseudonym, "kind": kind.value,
                                            "response": answer, "consent": consent})
    if answer == "accepted":
        ctx.session.add(Engagement(offer_id=the_offer.id, case_id=case.id, subject_id=subject.id,  # type: ignore[arg-type]
                                   kind=kind.value, state=EngagementState.active.value, started_at=ctx.now()))
        ctx.session.flush()
        rules.offer_accepted(ctx.session, the_offer, ctx.now())
        steps.anchor_reached(ctx, case, "engagement_started")
    else:
        rules.offer_declined(ctx.session, case, the_offer, ctx.now(), ctx.tz)
        steps.anchor_reached(ctx, case, "offer_declined")
    settle_state(ctx, case)
    ctx.audit("case.respond", case_ref=case.ref, detail={"kind": kind.value, "response": answer})
    key = "offer.accepted" if answer == "accepted" else "offer.declined"
    return Reply(text=ctx.t(key, ref=case.ref, subject=format_pseudonym(subject.pseudonym),
                            kind=ctx.label("offer_kind", kind.value)))


def engagement_for(ctx: Ctx, case: Case, subject: Subject, kind: OfferKind | None,
                   mentor_id: int | None = None) -> Engagement:
    stmt = select(Engagement).where(Engagement.subject_id == subject.id,
                                    Engagement.state == EngagementState.active)
    if kind is not None:
        stmt = stmt.where(Engagement.kind == kind)
    if mentor_id is not None:
        stmt = stmt.where(Engagement.mentor_id == mentor_id)
    found = list(ctx.session.exec(stmt.order_by(col(Engagement.id))))
    if not found:
        raise UsageError("no_engagement", ref=case.ref, subject=format_pseudonym(subject.pseudonym))
    if len(found) > 1:
        raise UsageError("which_engagement", kinds=", ".join(e.kind for e in found))
    return found[0]


@case_command("case assign", "case assign KE-… subject=PSEUDONYM kind=KIND mentor=@user", access.STAFF)
def assign(ctx: Ctx, args: Args, case: Case) -> Reply:
    only_options(args, {"subject", "kind", "mentor"})
    subject = subject_by_pseudonym(ctx, case, args.options.get("subject"))
    kind = enum_value(OfferKind, args.options.get("kind"), "kind")
    mentor = member_by_ref(ctx, args.options.get("mentor"), "mentor")
    if mentor.role not in (Role.mentor, Role.member):
        raise UsageError("not_a_mentor", user=mentor.user_id)
    access.require_assignable(ctx, mentor, case, "mentor")
    engagement = engagement_for(ctx, case, subject, kind)
    engagement.mentor_id = mentor.id
    ctx.session.add(engagement)
    rules.mentor_assigned(ctx.session, engagement, ctx.now())
    add_event(ctx, case, "assigned", {"subject": subject.pseudonym, "kind": kind.value, "mentor": mentor.user_id})
    ctx.audit("case.assign", case_ref=case.ref, detail={"kind": kind.value, "mentor": mentor.user_id})
    ctx.send_dm(mentor.user_id, Reply(text=ctx.t("assign.dm", ref=case.ref, kind=ctx.label("offer_kind", kind.value),
                                                 subject=format_pseudonym(subject.pseudonym))))
    return Reply(text=ctx.t("assign.done", ref=case.ref, subject=format_pseudonym(subject.pseudonym),
                            kind=ctx.label("offer_kind", kind.value), mentor=mention(mentor)))
