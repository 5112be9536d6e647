"""Advice contacts (SPEC.md §10): `concern advice` records a call or question answered without a case —
H-YYYY-NNNN, who asked (source, district), a topic of the profile's list, the advice given (PII-guarded by the
router, encrypted); no person, no deadline. `concern promote H-…` turns one into a case that keeps its
received time; a promoted contact is never born overdue: when its visitation window has already run out, the
case gets the normal window from the promotion. Advice contacts are erased like unfounded cases
(RETENTION_DAYS_UNFOUNDED after receipt); their anonymous report row (storage/fact_tables.py: ReportContact) stays,
so the reports can count contacts and case courses apart (the seed's "100 henvendelser og 18 sagsforløb")."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import update
from sqlmodel import col, select

from commands import access
from commands.cases import concerns
from commands.cases.buttons import case_buttons
from commands.cases.record import add_event
from commands.context import Ctx
from commands.errors import UsageError
from commands.parsing import choice, enum_list, enum_value, local_datetime, only_options
from commands.registry import command
from commands.reply import FieldLine, Reply
from commands.tokenizer import Args
from storage import sealed
from storage.contacts import AdviceContact
from storage.enums import AgeBand, Severity, Track
from storage.fact_tables import ReportContact
from storage.models import Case
from storage.sequences import next_value

REF = re.compile(r"^H-(\d{4})-(\d{4,6})$", re.IGNORECASE)
MAX_TEXT = 4000


def _contact(ctx: Ctx, raw: str | None) -> AdviceContact:
    ref = (raw or "").strip().upper()
    if not REF.match(ref):
        raise UsageError("advice_ref", value=(raw or "—")[:30], option="contact")
    contact = ctx.session.exec(select(AdviceContact).where(AdviceContact.ref == ref)).first()
    if contact is None:
        raise UsageError("advice_unknown", ref=ref, option="contact")  # `option`: the form's field it is about
    return contact


def record(ctx: Ctx, values: dict[str, str]) -> AdviceContact:
    profile = ctx.profile
    text = (values.get("advice") or "").strip()
    if not text:
        raise UsageError("missing_option", option="advice", choices='"…"')
    if len(text) > MAX_TEXT:
        raise UsageError("too_long", option="advice", limit=MAX_TEXT)
    source = choice(profile.sources, values.get("source"), "source")
    district = ""
    if (values.get("district") or "").strip():
        if not profile.districts:
            raise UsageError("bad_choice", option="district", value=values["district"], choices="—")
        district = choice(profile.districts, values.get("district"), "district")
    topic = choice(profile.advice_topics, values.get("topic"), "topic")
    received = ctx.now()
    if values.get("received"):
        received = local_datetime(values["received"], ctx.tz, ctx.now(), "received")
        if received > ctx.now():
            raise UsageError("received_future", option="received")
    year = ctx.local(received).year
    contact = AdviceContact(ref=f"H-{year}-{next_value(ctx.session, f'advice:{year}'):04d}", received_at=received,
                            source=source, district=district, topic=topic, created_at=ctx.now(),
                            created_by=ctx.actor.id if ctx.actor else None, fact_key=secrets.token_hex(16))
    contact.text_ct, contact.text_kid = ctx.encrypt(text, sealed.ADVICE_TEXT.label)
    ctx.session.add(contact)
    ctx.session.add(ReportContact(fact_key=contact.fact_key, received_on=ctx.local(received).date(),  # type: ignore[arg-type]
                                  source=source, district=district, topic=topic))
    ctx.session.flush()
    ctx.audit("concern.advice", detail={"ref": contact.ref, "topic": topic, "source": source})
    return contact


def _recorded(ctx: Ctx, contact: AdviceContact) -> Reply:
    return Reply(text=ctx.t("advice.recorded", ref=contact.ref, topic=ctx.label("advice_topic", contact.topic)),
                 buttons=[])


@command("concern advice", 'concern advice source=… [district=…] topic=… "advice given" [received="…"]',
         access.STAFF)
def advice(ctx: Ctx, args: Args) -> Reply:
    """Typed bare it opens its form (commands/form_table.py)."""
    only_options(args, {"source", "district", "topic", "received", "advice"}, texts=1)
    values = dict(args.options)
    if args.texts:
        values["advice"] = args.texts[0]
    return _recorded(ctx, record(ctx, values))


@command("concern promote", "concern promote H-… severity=… track=… age=… basis=…", access.STAFF)
def promote(ctx: Ctx, args: Args) -> Reply:
    """Typed with the contact only it opens its form, once the contact is found (`look_up`)."""
    only_options(args, {"severity", "track", "age", "basis"}, words=1)
    contact = _contact(ctx, args.words[0] if args.words else None)
    case = promote_contact(ctx, contact, dict(args.options))
    return _promoted(ctx, contact, case)


def look_up(ctx: Ctx, refs: dict[str, str]) -> None:
    """The contact typed after `concern promote`: one that does not exist, or is a case already, says so
    before its form opens."""
    if refs.get("contact"):
        _not_promoted(ctx, _contact(ctx, refs["contact"]))


def _not_promoted(ctx: Ctx, contact: AdviceContact) -> None:
    if contact.case_id is not None:
        promoted = ctx.session.get(Case, contact.case_id)
        raise UsageError("advice_promoted", ref=contact.ref, case=promoted.ref if promoted else "—")


def promote_contact(ctx: Ctx, contact: AdviceContact, values: dict[str, str]) -> Case:
    _not_promoted(ctx, contact)
    intake = concerns.Intake(
        severity=enum_value(Severity, values.get("severity"), "severity"),
        track=enum_value(Track, values.get("track"), "track"),
        ages=enum_list(AgeBand, values.get("age"), "age"),
        source=contact.source, district=contact.district,
        basis=choice(ctx.profile.basis_codes(), values.get("basis"), "basis"),
        summary=ctx.decrypt(contact.text_ct, contact.text_kid, sealed.ADVICE_TEXT.label) or contact.ref,
        indicators=[], received_at=contact.received_at)
    case = concerns.open_case(ctx, intake, [None] * len(intake.ages), never_overdue=True)
    now = ctx.now()
    add_event(ctx, case, "promoted", {"ref": contact.ref})
    # Once only, also when two people promote it at the same moment: the second finds it taken (its whole
    # transaction, the case it opened included, is rolled back).
    claimed = ctx.session.execute(
        update(AdviceContact).where(col(AdviceContact.id) == contact.id, col(AdviceContact.case_id).is_(None))
        .values(case_id=case.id, promoted_at=now, text_ct=None, text_kid=None))  # the text is the summary now
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise UsageError("advice_promoted", ref=contact.ref, case="—")
    ctx.session.refresh(contact)
    fact = ctx.session.get(ReportContact, contact.fact_key)
    if fact is not None:
        fact.promoted_on = ctx.local(now).date()
        ctx.session.add(fact)
    ctx.audit("concern.promote", case_ref=case.ref, detail={"ref": contact.ref})
    return case


def _promoted(ctx: Ctx, contact: AdviceContact, case: Case) -> Reply:
    return Reply(text=ctx.t("advice.promoted", ref=contact.ref, case=case.ref, deadline=ctx.fmt(case.deadline_at)),
                 buttons=case_buttons(ctx, case))


def promoted_from(ctx: Ctx, case: Case) -> FieldLine | None:
    """For `case show`: the advice contact a case grew from."""
    ref = ctx.session.exec(select(AdviceContact.ref).where(AdviceContact.case_id == case.id)).first()
    return None if ref is None else FieldLine(ctx.t("advice.field.from"), ref)
