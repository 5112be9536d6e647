"""The disclosure log (SPEC.md §10): who shared which categories of information about a case or one of its
persons with which authority, on which legal basis of the unit's profile, and when. Written by
`case disclose` and, automatically, by a referral (`case refer`: the concern and the assessment, to the
responsible authority) and a register check (`case checked`: the person's identity, to the checking org).

`disclosures_for` is the query the subject access export reads (GDPR Art. 15(1)(c): the recipients and the
bases): plain values only, no ORM rows and no free text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, or_, select

from commands import access
from commands.cases.record import add_event, subject_by_pseudonym
from commands.context import Ctx
from commands.errors import UsageError
from commands.parsing import choice, enum_list, only_options, org_code
from commands.registry import case_command
from commands.reply import FieldLine, Reply
from commands.tokenizer import Args
from storage import sealed
from storage.enums import DisclosureCategory
from storage.models import Case, Disclosure, Subject
from storage.pseudonym import format_pseudonym

REFERRAL = ("concern", "assessment")  # what a referral hands the responsible authority
CHECK = ("identity", "concern")  # what a register check shows the checking org


@dataclass(frozen=True)
class Shared:
    """One disclosure as plain values: the recipient org's code, the basis code, the categories, when."""

    org: str
    basis: str
    categories: tuple[str, ...]
    at: datetime
    how: str  # manual | referral | check
    case_ref: str
    subject: str | None  # the person's pseudonym when it concerned one person of the case


def record(ctx: Ctx, case: Case, org: str, basis: str, categories: tuple[str, ...] | list[str], how: str,
           subject: Subject | None = None, text: str | None = None) -> Disclosure:
    entry = Disclosure(case_id=case.id, subject_id=subject.id if subject else None, org=org, basis=basis,  # type: ignore[arg-type]
                       categories=",".join(dict.fromkeys(categories)), how=how,
                       actor_id=ctx.actor.id if ctx.actor else None, at=ctx.now())
    if text:
        entry.text_ct, entry.text_kid = ctx.encrypt(text, sealed.DISCLOSURE_TEXT.label)
    ctx.session.add(entry)
    ctx.session.flush()
    return entry


def disclosures_for(session: Session, case: Case | None = None, subject: Subject | None = None) -> list[Shared]:
    """A case's disclosures (all of them), or one person's: those about that person and those about their whole
    case (a disclosure about a sibling is not theirs), oldest first."""
    stmt = select(Disclosure, Case.ref).join(Case, col(Case.id) == col(Disclosure.case_id))
    if subject is not None:
        stmt = stmt.where(Disclosure.case_id == subject.case_id,
                          or_(col(Disclosure.subject_id).is_(None), Disclosure.subject_id == subject.id))
    elif case is not None:
        stmt = stmt.where(Disclosure.case_id == case.id)
    rows = list(session.exec(stmt.order_by(col(Disclosure.at), col(Disclosure.id))))
    names = {s.id: s.pseudonym for s in session.exec(select(Subject).where(
        col(Subject.id).in_({d.subject_id for d, _ in rows if d.subject_id is not None})))}
    return [Shared(d.org, d.basis, tuple(c for c in d.categories.split(",") if c), d.at, d.how, ref,
                   names.get(d.subject_id) if d.subject_id is not None else None) for d, ref in rows]


def categories_text(ctx: Ctx, categories: tuple[str, ...]) -> str:
    return ", ".join(ctx.label("disclosure", c) for c in categories)


def line(ctx: Ctx, shared: Shared) -> str:
    """`3. dec. 2026 kl. 10.00 · Politiet · identitet, bekymringen · Retsplejeloven § 115` (no free text)."""
    parts = [ctx.fmt(shared.at), ctx.label("org", shared.org), categories_text(ctx, shared.categories),
             ctx.label("basis", shared.basis)]
    if shared.subject:
        parts.insert(1, format_pseudonym(shared.subject))
    return " · ".join(parts)


def show_fields(ctx: Ctx, case: Case, names: dict[int | None, str], limit: int = 10) -> list[FieldLine]:
    """For `case show` (`names`: the case's persons, id → pseudonym): the latest disclosures, newest last,
    with a note's text (shown privately only)."""
    rows = list(ctx.session.exec(select(Disclosure).where(Disclosure.case_id == case.id)
                                 .order_by(col(Disclosure.at).desc(), col(Disclosure.id).desc()).limit(limit)))
    fields = []
    for d in reversed(rows):
        item = Shared(d.org, d.basis, tuple(c for c in d.categories.split(",") if c), d.at, d.how, case.ref,
                      names.get(d.subject_id) if d.subject_id is not None else None)
        note = ctx.decrypt(d.text_ct, d.text_kid, sealed.DISCLOSURE_TEXT.label)
        fields.append(FieldLine(ctx.t("field.disclosure"), line(ctx, item) + (f" — {note}" if note else "")))
    return fields


@case_command("case disclose", 'case disclose KE-… to=ORG basis=BASIS what=CATEGORIES [subject=PSEUDONYM] ["note"]',
         access.STAFF)
def disclose(ctx: Ctx, args: Args, case: Case) -> Reply:
    only_options(args, {"to", "basis", "what", "subject"}, texts=1)
    org = org_code(ctx.profile.org_codes(include_archived=False), args.options.get("to"), "to")
    basis = choice(ctx.profile.basis_codes(), args.options.get("basis"), "basis")
    what = tuple(c.value for c in enum_list(DisclosureCategory, args.options.get("what"), "what"))
    subject = subject_by_pseudonym(ctx, case, args.options["subject"]) if "subject" in args.options else None
    note = (args.texts[0].strip() if args.texts else "")
    if len(note) > 500:
        raise UsageError("too_long", option="text", limit=500)
    if case.erased_at is not None:
        raise UsageError("case_closed", ref=case.ref)
    record(ctx, case, org, basis, what, "manual", subject, note or None)
    data: dict[str, object] = {"org": org, "basis": basis, "categories": ",".join(what)}
    if subject is not None:
        data["subject"] = subject.pseudonym
    add_event(ctx, case, "disclosure", data)
    ctx.audit("case.disclose", case_ref=case.ref, detail={"to": org, "basis": basis, "categories": list(what)})
    return Reply(text=ctx.t("disclose.done", ref=case.ref, org=ctx.label("org", org),
                            basis=ctx.label("basis", basis), what=categories_text(ctx, what)))


def on_agenda(session: Session, case_ids: list[int]) -> dict[int, list[tuple[str, tuple[str, ...]]]]:
    """For the agenda, one query: each case's disclosures as (org, categories) — never a note."""
    found: dict[int, list[tuple[str, tuple[str, ...]]]] = {}
    if not case_ids:
        return found
    for d in session.exec(select(Disclosure).where(col(Disclosure.case_id).in_(case_ids))
                          .order_by(col(Disclosure.at), col(Disclosure.id))):
        found.setdefault(d.case_id, []).append((d.org, tuple(c for c in d.categories.split(",") if c)))
    return found
