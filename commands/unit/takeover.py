"""Taking over existing cases (SPEC.md §10): `unit import template` and `unit import cases` (admin,
secretariat). A dry run (`check=yes`) shows what would be made and every row's problems at once; the import
makes every case in one transaction, or none. Imported cases are *overtaget* (`cases.taken_over_at`): no
deadline alarm for the past, follow-ups only where they fall due from now on, and the visitation target
leaves them out (storage/fact_tables.py: ReportTakeover). Re-importing the same file skips the cases already made
(`cases.import_key`, a keyed hash of the unit's own case number). The identifier column derives the
pseudonym and goes no further; the reply asks to delete the file. See docs/guide.md (taking over cases)."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from commands import access
from commands.cases import steps
from commands.cases.concerns import add_subject
from commands.cases.record import add_event, stamp
from commands.context import Ctx, dumps
from commands.errors import UsageError
from commands.followups import rules
from commands.parsing import only_options, yes_no
from commands.registry import command, form
from commands.reply import Attachment, FieldLine, FormResult, Reply
from commands.reports import facts
from commands.tokenizer import Args
from commands.unit import sheet as sheets
from commands.unit.takeover_plan import OPEN_BEFORE_REFERRAL, CasePlan, OfferPlan, Plan, read_plan
from storage import sealed
from storage.enums import AgeBand, CaseState, CloseReason, EngagementState
from storage.fact_tables import ReportTakeover
from storage.models import Case, CaseEvent, Engagement, FollowUp, Offer
from storage.sequences import next_value

IMPORT_FORM = "unit.import_cases"
SHOWN_PROBLEMS = 300  # in the reply; the rest are counted
COUNTS = ("cases", "open", "persons", "offers", "courses", "known", "expired")


@command("unit import template", "unit import template", access.LEADS)
def template(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set())
    lang = "da" if ctx.lang == "da" else "en"
    name = ctx.t("takeover.template_file")
    ctx.audit("unit.import.template")
    return Reply(text=ctx.t("takeover.template"), attachments=[
        Attachment(f"{name}.csv", "text/csv", sheets.template_csv(lang), command="unit import template"),
        Attachment(f"{name}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   sheets.template_xlsx(lang), command="unit import template")])


@command("unit import cases", "unit import cases path=FILE [check=yes]", access.LEADS)
def import_cases(ctx: Ctx, args: Args) -> Reply:
    """Typed bare it opens its form (commands/form_table.py): on Slack a file upload, in the console the file's
    path; on Teams the file is attached to the message (bot/teams/uploads.py)."""
    only_options(args, {"path", "check", "file"})
    check = bool(yes_no(args.options.get("check"), "check")) if "check" in args.options else False
    if "file" in args.options:  # the form's file, read by the platform
        data = file_bytes(args.options["file"])
        if not data.strip():
            raise UsageError("missing_option", option="file", choices="…")
        return run(ctx, data, check)
    raw = args.options.get("path")
    if raw is None:
        if ctx.inv.platform == "teams":
            return Reply(text=ctx.t("takeover.teams_attach"))
        raise UsageError("takeover_missing_path")
    if ctx.inv.platform != "console":
        raise UsageError("profile_path_console")  # a chat user never names a file on the server
    try:
        data = Path(raw).expanduser().read_bytes()
    except OSError:
        raise UsageError("profile_path", path=raw[:200]) from None
    return run(ctx, data, check)


def file_bytes(value: str) -> bytes:
    """A form's file value: the adapters hand a binary file (XLSX) as `base64:…`, a text file as its text."""
    if value.startswith("base64:"):
        try:
            return base64.b64decode(value[7:], validate=True)
        except ValueError:
            return b""
    return value.encode("utf-8")


@form(IMPORT_FORM, access.LEADS, frozenset({"file"}))  # a file attached in Teams (bot/teams/uploads.py)
def submit_import(ctx: Ctx, values: dict[str, str], _context: dict[str, str]) -> FormResult:
    data = file_bytes(values.get("file") or "")
    if not data.strip():
        return FormResult(errors={"file": ctx.t("form.required")})
    check = (values.get("check") or "yes").strip().lower() != "no"
    try:
        sheets.read(data)
    except sheets.SheetError as exc:
        return FormResult(errors={"file": ctx.t(exc.key, **exc.params)})
    return FormResult(reply=run(ctx, data, check))


def run(ctx: Ctx, data: bytes, check: bool) -> Reply:
    """The whole use case from the file's bytes (console path, Slack upload, Teams attachment)."""
    try:
        sheet = sheets.read(data)
    except sheets.SheetError as exc:
        raise UsageError("takeover_file", reason=ctx.t(exc.key, **exc.params), option="file") from None
    plan = read_plan(ctx, sheet)
    counts = _counts(ctx, plan)
    detail = {"rows": len(sheet.rows), "problems": len(plan.problems), "check": check, **counts}
    if plan.problems:
        ctx.audit("unit.import.cases", result="problems", detail=detail)
        return _problems_reply(ctx, plan, check)
    if check:
        ctx.audit("unit.import.cases", result="checked", detail=detail)
        return Reply(title=ctx.t("takeover.check_title"), text=ctx.t("takeover.check_ok"),
                     fields=_count_fields(ctx, counts))
    refs = [apply_case(ctx, case) for case in plan.new]
    ctx.audit("unit.import.cases", detail={**detail, "first": refs[0] if refs else None,
                                           "last": refs[-1] if refs else None})
    text = (ctx.tn("takeover.done", len(refs), refs=_span(refs)) if refs else ctx.t("takeover.nothing_new")) + \
        "\n" + ctx.t("takeover.delete_file")
    return Reply(title=ctx.t("takeover.done_title"), text=text, fields=_count_fields(ctx, counts))


def _span(refs: list[str]) -> str:
    """The references made, in order; a long list as its first and last (they span several years)."""
    refs = sorted(refs)
    return ", ".join(refs) if len(refs) <= 12 else f"{refs[0]} … {refs[-1]}"


def _expired(ctx: Ctx, plan: CasePlan) -> bool:
    """A closed case whose retention ran out before the takeover: the next retention run erases it (its
    anonymous report facts stay, so the reports still count it)."""
    closed = plan.values.get("closed")
    if plan.values.get("state") != CaseState.closed.value or not isinstance(closed, datetime):
        return False
    days = (ctx.settings.retention_days_unfounded if plan.values.get("close_reason") == CloseReason.unfounded.value
            else ctx.settings.retention_days)
    return ctx.local(closed).date() + timedelta(days=days) <= ctx.local(ctx.now()).date()


def _counts(ctx: Ctx, plan: Plan) -> dict[str, int]:
    new = plan.new
    return {"cases": len(new), "known": len(plan.cases) - len(new), "expired": sum(_expired(ctx, c) for c in new),
            "persons": sum(len(c.persons) for c in new),
            "offers": sum(len(p.offers) for c in new for p in c.persons.values()),
            "courses": sum(1 for c in new for p in c.persons.values() for o in p.offers
                           if o.answer == "accepted"),
            "open": sum(1 for c in new if c.values.get("state") != CaseState.closed.value)}


def _count_fields(ctx: Ctx, counts: dict[str, int]) -> list[FieldLine]:
    return [FieldLine(ctx.t(f"takeover.count.{name}"), ctx.num(counts[name]))
            for name in COUNTS if name != "expired" or counts[name]]


def _problems_reply(ctx: Ctx, plan: Plan, check: bool) -> Reply:
    lines = []
    for p in plan.problems[:SHOWN_PROBLEMS]:
        where = ctx.t("takeover.where", row=p.row, column=p.column) if p.column else \
            ctx.t("takeover.where_row", row=p.row)
        lines.append(f"• {where}: {p.text}")
    if len(plan.problems) > SHOWN_PROBLEMS:
        lines.append(ctx.tn("takeover.more_problems", len(plan.problems) - SHOWN_PROBLEMS))
    intro = ctx.tn("takeover.problems", len(plan.problems), rows=len({p.row for p in plan.problems}))
    outro = ctx.t("takeover.nothing_stored_check" if check else "takeover.nothing_stored")
    return Reply(title=ctx.t("takeover.check_title" if check else "takeover.done_title"),
                 text="\n".join([intro, *lines, outro]), ok=False)


# -- making the cases ---------------------------------------------------------------------------------------

def _event(ctx: Ctx, case: Case, at: datetime, kind: str, data: dict[str, object]) -> None:
    """A timeline entry at the imported date (add_event writes at the present)."""
    event = CaseEvent(case_id=case.id, at=at, actor_id=ctx.actor.id if ctx.actor else None,  # type: ignore[arg-type]
                      kind=kind, data=dumps(data))
    stamp(case, event)  # as add_event does (an imported date may be the latest)
    ctx.session.add(event)


def _drop_past(ctx: Ctx, followups: list[FollowUp]) -> None:
    """Follow-ups whose time passed before the takeover are not planned (no alarm for the past)."""
    for followup in followups:
        if followup.due_at <= ctx.now():
            ctx.session.delete(followup)
    ctx.session.flush()


def _when(values: dict[str, object], key: str) -> datetime | None:
    value = values.get(key)
    return value if isinstance(value, datetime) else None


def _code(values: dict[str, object], key: str) -> str | None:
    value = values.get(key)
    return str(value) if value else None


def _member(values: dict[str, object]) -> int | None:
    value = values.get("owner")
    return value if isinstance(value, int) else None


def apply_case(ctx: Ctx, plan: CasePlan) -> str:
    """One planned case made: the case, its timeline at the imported dates, persons, offers and courses, and
    only the follow-ups that fall due from now on."""
    v, now, profile = plan.values, ctx.now(), ctx.profile
    received = _when(v, "received")
    assert received is not None  # a plan without problems has it
    state, severity = str(v["state"]), str(v["severity"])
    hours = profile.visitation(severity)
    year = ctx.local(received).year
    authority = _code(v, "authority")
    referred = _when(v, "referred") or (received if state not in OPEN_BEFORE_REFERRAL and authority else None)
    case = Case(ref=f"KE-{year}-{next_value(ctx.session, f'case:{year}'):04d}", state=state, severity=severity,
                track=str(v["track"]), source=_code(v, "source") or ("other" if "other" in profile.sources
                                                                     else profile.sources[0]),
                district=_code(v, "district") or "", basis=_code(v, "basis") or profile.basis_codes()[0],
                level=_code(v, "level"), received_at=received, deadline_at=received + timedelta(hours=hours),
                referred_at=referred, responsible_org=authority, owner_id=_member(v), created_at=now,
                updated_at=now, closed_at=_when(v, "closed"), close_reason=_code(v, "close_reason"),
                taken_over_at=now, last_event_at=now,  # its "taken_over" entry (record.stamp keeps it so)
                import_key=plan.key, fact_key=secrets.token_hex(16),
                reporter_id=ctx.actor.id if ctx.actor else None)
    reopened_window = state in OPEN_BEFORE_REFERRAL and case.deadline_at <= now
    if reopened_window:
        case.deadline_at = now + timedelta(hours=hours)  # the normal window, from the takeover
    if v.get("summary"):
        case.summary_ct, case.summary_kid = ctx.encrypt(str(v["summary"]), sealed.CASE_SUMMARY.label)
    ctx.session.add(case)
    ctx.session.flush()
    _event(ctx, case, received, "received", {"severity": case.severity, "track": case.track, "source": case.source,
                                             "hours": hours,
                                             **({"deadline": case.deadline_at.isoformat()} if reopened_window
                                                else {})})
    if case.referred_at is not None:
        _event(ctx, case, case.referred_at, "referred", {"to": case.responsible_org, "owner": None,
                                                        "deadline_met": None})
    if case.closed_at is not None:
        _event(ctx, case, case.closed_at, "state", {"to": CaseState.closed.value, "reason": case.close_reason})
    add_event(ctx, case, "taken_over")
    for n in sorted(plan.persons):
        person = plan.persons[n]
        subject = add_subject(ctx, case, AgeBand(person.age), person.pseudonym)
        for o in person.offers:
            _apply_offer(ctx, case, subject.id, o)  # type: ignore[arg-type]
    if state in OPEN_BEFORE_REFERRAL:
        rules.open_visitation(ctx.session, case, now, start=now if reopened_window else None)
        if state == CaseState.qualifying.value:
            steps.attach(ctx, case)
    ctx.session.add(ReportTakeover(fact_key=case.fact_key, taken_over_on=ctx.local(now).date()))  # type: ignore[arg-type]
    facts.touch(ctx.session, case.id, ctx.tz)
    ctx.audit("case.take_over", case_ref=case.ref, detail={"state": state, "persons": len(plan.persons)})
    return case.ref


def _apply_offer(ctx: Ctx, case: Case, subject_id: int, o: OfferPlan) -> None:
    responded = None if o.answer == "pending" else (o.started_at or o.offered_at)
    offer = Offer(case_id=case.id, subject_id=subject_id, kind=o.kind, state=o.answer,  # type: ignore[arg-type]
                  consent=o.answer == "accepted", offered_at=o.offered_at, responded_at=responded)
    ctx.session.add(offer)
    ctx.session.flush()
    is_open = case.state != CaseState.closed.value
    if o.answer == "declined" and is_open:
        _drop_past(ctx, rules.offer_declined(ctx.session, case, offer, ctx.now(), ctx.tz))
    if o.answer != "accepted":
        return
    ended = o.ended_at
    engagement = Engagement(offer_id=offer.id, case_id=case.id, subject_id=subject_id, kind=o.kind,  # type: ignore[arg-type]
                            state=(EngagementState.ended if ended else EngagementState.active).value,
                            started_at=o.started_at or o.offered_at, ended_at=ended)
    ctx.session.add(engagement)
    ctx.session.flush()
    if ended is not None:
        _drop_past(ctx, rules.engagement_ended(ctx.session, case, engagement, ctx.now(), ctx.tz))
    elif is_open:
        rules.mentor_assigned(ctx.session, engagement, ctx.now())
