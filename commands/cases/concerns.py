"""Intake: a concern opens a case (KE-YYYY-NNNN) with pseudonymised subjects; and the identity lookup."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlmodel import col, select

from commands import access
from commands.cases import notices
from commands.cases.buttons import case_buttons
from commands.cases.record import add_event, deadline_for
from commands.context import Ctx
from commands.errors import UsageError
from commands.followups import rules
from commands.forms import submission as forms
from commands.members import limits
from commands.parsing import choice, enum_list, enum_value, local_datetime, only_options
from commands.registry import command, form
from commands.reply import Button, FieldLine, Form, FormField, FormResult, Reply
from commands.tokenizer import Args
from storage import outbox, sealed
from storage.enums import AgeBand, CaseState, Severity, Track
from storage.models import Case, Subject
from storage.pseudonym import (
    IdentifierError,
    derived_pseudonym,
    format_pseudonym,
    normalise_identifier,
    random_pseudonym,
)
from storage.sequences import next_value

CPR_SHAPE = re.compile(r"[0-9]{6}[- ]?[0-9]{4}")
MAX_SUBJECTS_IN_FORM = 3
INTAKE_OPTIONS = {"severity", "track", "age", "source", "district", "basis", "summary", "indicators", "received"}


@dataclass
class Intake:
    severity: Severity
    track: Track
    ages: list[AgeBand]
    source: str
    district: str
    basis: str
    summary: str
    indicators: list[str]
    received_at: object  # aware UTC datetime


def parse_intake(ctx: Ctx, values: dict[str, str]) -> Intake:
    summary = (values.get("summary") or "").strip()
    if not summary:
        raise UsageError("missing_option", option="summary", choices='"…"')
    if len(summary) > 4000:
        raise UsageError("too_long", option="summary", limit=4000)
    received = ctx.now()
    if values.get("received"):
        received = local_datetime(values["received"], ctx.tz, ctx.now(), "received")
        if received > ctx.now():
            raise UsageError("received_future", option="received")
    profile = ctx.profile
    if not profile.districts and (values.get("district") or "").strip():
        raise UsageError("bad_choice", option="district", value=values["district"], choices="—")  # no list
    indicators = [choice(profile.indicators, part.strip(), "indicators")
                  for part in (values.get("indicators") or "").split(",") if part.strip()]
    return Intake(
        severity=enum_value(Severity, values.get("severity"), "severity"),
        track=enum_value(Track, values.get("track"), "track"),
        ages=enum_list(AgeBand, values.get("age"), "age"),
        source=choice(profile.sources, values.get("source"), "source"),
        district=choice(profile.districts, values.get("district"), "district") if profile.districts else "",
        basis=choice(profile.basis_codes(), values.get("basis"), "basis"),
        summary=summary,
        indicators=list(dict.fromkeys(indicators)),
        received_at=received,
    )


def _normalised(raw: str) -> str:
    """The identifier as the pseudonym is derived from it; IdentifierError when it is not one."""
    raw = " ".join(raw.split())
    if CPR_SHAPE.fullmatch(raw):  # an impossible date then says "not a valid CPR number"
        return normalise_identifier(cpr=raw)
    name, _, birth = raw.rpartition(" ")
    if not any(ch.isdigit() for ch in birth):  # a name alone: ask for the birth date
        name, birth = raw, ""
    return normalise_identifier(name=name or None, birth_date=birth or None)


def identifier_token(ctx: Ctx, raw: str, form_id: str) -> str:
    """The linkage pseudonym for an identifier typed in a form. The identifier itself goes no further.

    Every derivation is an answer to "is this person known?" (the pseudonym links to other cases), so each
    one counts against LOOKUP_LIMIT, found or not, and over the limit nothing is derived (issue 26)."""
    normalised = _normalised(raw)
    limits.check_lookup(ctx)
    token = derived_pseudonym(ctx.svc.keys.pseudonym_key, normalised)
    limits.counted(ctx, form_id)
    return token


def imported_identifier_token(ctx: Ctx, raw: str) -> str:
    """The linkage pseudonym for an identifier column of a case import (`unit import cases`: admin and
    secretariat, who see every case). Not counted against LOOKUP_LIMIT, which bounds questions about one person
    at a time — a unit's takeover derives one per person it brings in; the import itself is audited."""
    return derived_pseudonym(ctx.svc.keys.pseudonym_key, _normalised(raw))


def add_subject(ctx: Ctx, case: Case, age: AgeBand, linked_pseudonym: str | None, track: str | None = None,
                relation: str | None = None) -> Subject:
    """A person of the case; `track` (default: the case's) and `relation` (child, parent, …) are the person's own."""
    if linked_pseudonym is None:
        pseudonym = random_pseudonym()
        while ctx.session.exec(select(Subject.id).where(Subject.pseudonym == pseudonym)).first():
            pseudonym = random_pseudonym()
    else:
        pseudonym = linked_pseudonym
    earlier = []
    if linked_pseudonym is not None:
        earlier = list(ctx.session.exec(
            select(Case.ref).join(Subject, col(Subject.case_id) == col(Case.id))
            .where(Subject.pseudonym == pseudonym, Case.id != case.id).order_by(col(Case.ref))
        ).unique())
    subject = Subject(case_id=case.id, pseudonym=pseudonym, linked=linked_pseudonym is not None,  # type: ignore[arg-type]
                      age_band=age.value, possible_repeat=bool(earlier), created_at=ctx.now(),
                      track=track or case.track, relation=relation)
    ctx.session.add(subject)
    ctx.session.flush()
    data: dict[str, object] = {"subject": pseudonym, "age": age.value, "linked": subject.linked}
    if track is not None or relation is not None:
        data |= {"track": subject.track, "relation": relation}
    add_event(ctx, case, "subject_added", data)
    if earlier:
        # To the secretariat only, never to the reporter.
        ctx.post_channel("secretariat", Reply(
            text=ctx.t("repeat.notice", ref=case.ref, subject=format_pseudonym(pseudonym),
                       earlier=", ".join(earlier)),
            buttons=case_buttons(ctx, case)[:1]))
    return subject


def open_case(ctx: Ctx, intake: Intake, identifiers: list[str | None], *, never_overdue: bool = False) -> Case:
    """never_overdue: a window that ran out before the case existed (a promoted advice contact) starts now."""
    received = intake.received_at
    year = ctx.local(received).year  # type: ignore[arg-type]
    seq = next_value(ctx.session, f"case:{year}")
    now = ctx.now()
    case = Case(ref=f"KE-{year}-{seq:04d}", state=CaseState.new.value, severity=intake.severity.value,
                track=intake.track.value, source=intake.source, district=intake.district,
                basis=intake.basis, indicators=",".join(intake.indicators),
                received_at=received, deadline_at=received, created_at=now, updated_at=now,  # type: ignore[arg-type]
                last_event_at=now,  # its "received" entry, written next (record.stamp keeps it so)
                reporter_id=ctx.actor.id if ctx.actor else None, fact_key=secrets.token_hex(16))
    case.deadline_at = case.received_at + deadline_for(ctx, case)
    fresh = never_overdue and case.deadline_at <= now
    if fresh:
        case.deadline_at = now + deadline_for(ctx, case)
    case.summary_ct, case.summary_kid = ctx.encrypt(intake.summary, sealed.CASE_SUMMARY.label)
    ctx.session.add(case)
    ctx.session.flush()
    add_event(ctx, case, "received", {"severity": case.severity, "track": case.track, "source": case.source,
                                      "hours": ctx.profile.visitation(case.severity),
                                      **({"deadline": case.deadline_at.isoformat()} if fresh else {})})
    rules.open_visitation(ctx.session, case, now, start=now if fresh else None)
    for age, identifier in zip(intake.ages, identifiers, strict=True):
        add_subject(ctx, case, age, identifier_token(ctx, identifier, "concern.intake") if identifier else None)
    ctx.audit("case.create", case_ref=case.ref)
    notice = Reply(
        text=ctx.t("concern.notice", ref=case.ref, severity=ctx.label("severity", case.severity),
                   track=ctx.label("track", case.track),
                   deadline=ctx.fmt(case.deadline_at)),
        fields=[FieldLine(ctx.t("field.subjects"), str(len(intake.ages)))],
        buttons=case_buttons(ctx, case), private=False)
    # Keyed, so it can be updated as the case moves on (commands/cases/notices.py); a new case has no notice yet.
    outbox.enqueue(ctx.session, clock=ctx.svc.clock, vault=ctx.svc.vault, target_kind="channel", target="unit",
                   payload=notice.to_json(), dedupe_key=notices.notice_key(case), check_duplicate=False)
    return case


def created_reply(ctx: Ctx, case: Case) -> Reply:
    return Reply(text=ctx.t("concern.created", ref=case.ref, deadline=ctx.fmt(case.deadline_at),
                            hours=int(deadline_for(ctx, case).total_seconds() // 3600)),
                 buttons=case_buttons(ctx, case))


@command("concern", "concern", access.STAFF)
def concern_form(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set())
    return Reply(text=ctx.t("concern.form_opened"), form=intake_form(ctx),
                 buttons=[Button(ctx.t("advice.button"), "concern.advice", "", "concern advice")])


@command("concern new", 'concern new severity=… track=… age=… source=… district=… basis=… summary="…" '
         '[indicators=a,b] [received="…"]', access.STAFF)
def concern_new(ctx: Ctx, args: Args) -> Reply:
    only_options(args, INTAKE_OPTIONS, texts=1)
    if not args.options and not args.texts:  # typed bare: the intake form
        return Reply(text=ctx.t("concern.form_opened"), form=intake_form(ctx))
    values = dict(args.options)
    if args.texts and "summary" not in values:
        values["summary"] = args.texts[0]
    intake = parse_intake(ctx, values)
    case = open_case(ctx, intake, [None] * len(intake.ages))
    return created_reply(ctx, case)


def words(ctx: Ctx, kind: str, codes: tuple[str, ...]) -> tuple[str, ...]:
    """A select's options as the reader's words (the submitted value stays the code)."""
    return tuple(ctx.label(kind, str(code)) for code in codes)


def intake_form(ctx: Ctx) -> Form:
    p = ctx.profile
    fields = [
        FormField("severity", ctx.t("field.severity"), "select", tuple(Severity), required=True,
                  option_labels=words(ctx, "severity", tuple(Severity))),
        FormField("track", ctx.t("field.track"), "select", tuple(Track), required=True,
                  option_labels=words(ctx, "track", tuple(Track))),
        FormField("source", ctx.t("field.source"), "select", tuple(p.sources), required=True,
                  option_labels=words(ctx, "source", tuple(p.sources))),
        *([FormField("district", ctx.t("field.district"), "select", tuple(p.districts), required=True)]
          if p.districts else []),
        FormField("basis", ctx.t("field.basis"), "select", tuple(p.basis_codes()), required=True,
                  option_labels=words(ctx, "basis", tuple(p.basis_codes()))),
        FormField("indicators", ctx.t("field.indicators"), "multiselect", tuple(p.indicators),
                  option_labels=words(ctx, "indicator", tuple(p.indicators))),
        FormField("received_date", ctx.t("field.received"), "date", hint=ctx.t("hint.received")),
        FormField("received_time", ctx.t("form.field.at"), "time"),
        FormField("summary", ctx.t("field.summary"), "multiline", required=True, hint=ctx.t("hint.summary")),
    ]
    for n in range(1, MAX_SUBJECTS_IN_FORM + 1):
        fields.append(FormField(f"subject{n}_age", ctx.t("field.subject_age", n=n), "select", tuple(AgeBand),
                                required=n == 1, option_labels=words(ctx, "age", tuple(AgeBand))))
        fields.append(FormField(f"subject{n}_identifier", ctx.t("field.subject_identifier", n=n), "text",
                                hint=ctx.t("hint.identifier"), never_stored=True))
    return Form("concern.intake", ctx.t("form.intake"), tuple(fields), ctx.t("form.submit"))


IDENTIFIER_FIELDS = frozenset({f"subject{n}_identifier" for n in range(1, MAX_SUBJECTS_IN_FORM + 1)})


def identifier_errors(ctx: Ctx, values: dict[str, str], names: list[str]) -> dict[str, str]:
    errors = {}
    for name in names:
        raw = (values.get(name) or "").strip()
        if not raw:
            continue
        try:
            _normalised(raw)
        except IdentifierError as exc:
            errors[name] = ctx.t(f"identifier.{exc.code}")
    return errors


@form("concern.intake", access.STAFF, IDENTIFIER_FIELDS)
def submit_intake(ctx: Ctx, values: dict[str, str], _context: dict[str, str]) -> FormResult:
    ages, identifiers = [], []
    # Every field at once (required, choices in code or word): the user corrects them in one go.
    _clean, errors = forms.check_fields(ctx, tuple(f for f in intake_form(ctx).fields if not f.never_stored), values)
    for n in range(1, MAX_SUBJECTS_IN_FORM + 1):
        age, ident = (values.get(f"subject{n}_age") or "").strip(), (values.get(f"subject{n}_identifier") or "")
        if age:
            ages.append(age)
            identifiers.append(ident.strip() or None)
        elif ident.strip():
            errors[f"subject{n}_age"] = ctx.t("form.age_needed")
    errors.update(identifier_errors(ctx, values, sorted(IDENTIFIER_FIELDS)))
    received = (values.get("received") or "").strip()  # a card sent before the day and time were pickers
    day, at = _clean.get("received_date"), _clean.get("received_time")
    if day and at:
        received = f"{day} {at}"
    elif (day or at) and not {"received_date", "received_time"} & set(errors):
        errors["received_time" if day else "received_date"] = ctx.t("form.required")  # the day with its time
    if errors:
        return FormResult(errors=errors)
    try:
        intake = parse_intake(ctx, {**values, "received": received, "age": ",".join(ages)})
    except UsageError as exc:
        option = exc.params.get("option", "summary")
        field_name = {"age": "subject1_age", "received": "received_date"}.get(str(option), option)
        return FormResult(errors={field_name: ctx.t(f"usage.{exc.key}", **exc.params)})
    case = open_case(ctx, intake, identifiers)
    return FormResult(reply=created_reply(ctx, case))


@command("concern lookup", "concern lookup", access.STAFF)
def lookup_form(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set())
    limits.check_lookup(ctx)
    return Reply(text=ctx.t("lookup.form_opened"), form=Form("concern.lookup", ctx.t("form.lookup"), (
        FormField("identifier", ctx.t("field.identifier"), "text", required=True, hint=ctx.t("hint.identifier_lookup"),
                  never_stored=True),
        FormField("purpose", ctx.t("field.purpose"), "multiline", required=True, hint=ctx.t("hint.purpose")),
    ), ctx.t("form.lookup_submit")))


@form("concern.lookup", access.STAFF, frozenset({"identifier"}))
def submit_lookup(ctx: Ctx, values: dict[str, str], _context: dict[str, str]) -> FormResult:
    purpose = (values.get("purpose") or "").strip()
    errors = identifier_errors(ctx, values, ["identifier"])
    if not (values.get("identifier") or "").strip():
        errors["identifier"] = ctx.t("form.required")
    if not purpose:
        errors["purpose"] = ctx.t("form.required")
    if errors:
        return FormResult(errors=errors)
    limits.check_lookup(ctx)
    pseudonym = derived_pseudonym(ctx.svc.keys.pseudonym_key, _normalised(values["identifier"]))  # audited below
    rows = list(ctx.session.exec(
        select(Case.ref, Case.state).join(Subject, col(Subject.case_id) == col(Case.id))
        .where(Subject.pseudonym == pseudonym).order_by(col(Case.ref))
    ).unique())
    open_refs = [ref for ref, state in rows if state != CaseState.closed]
    closed_refs = [ref for ref, state in rows if state == CaseState.closed]
    ctx.audit("concern.lookup", result="found" if rows else "not_found", purpose=purpose,
              detail={"open": len(open_refs), "closed": len(closed_refs)})
    limits.after_lookup(ctx)
    if not rows:
        return FormResult(reply=Reply(text=ctx.t("lookup.none")))
    return FormResult(reply=Reply(text=ctx.t("lookup.found", subject=format_pseudonym(pseudonym)), fields=[
        FieldLine(ctx.t("field.open_cases"), ", ".join(open_refs) or "—"),
        FieldLine(ctx.t("field.closed_cases"), ", ".join(closed_refs) or "—"),
    ]))
