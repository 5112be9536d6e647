"""Reading cases (list, show — audited) and adding to them (note, subject)."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlmodel import col, or_, select

from commands import access
from commands.cases import disclosures, persons, steps
from commands.cases.concerns import SUMMARY_AAD, _identifier_errors, add_subject, identifier_token, words
from commands.cases.lifecycle import missing_checks
from commands.cases.mentors import NOTE_AAD
from commands.common import (
    EVENT_TEXT_AAD,
    add_event,
    case_buttons,
    member_by_id,
    mention,
    only_options,
    subjects_of,
)
from commands.context import Ctx
from commands.errors import UsageError
from commands.messages import labels
from commands.parsing import case_ref, enum_value
from commands.registry import command, form
from commands.reply import FieldLine, Form, FormField, FormResult, Reply
from commands.retention import handlers as retention
from commands.tokenizer import Args
from storage.enums import OPEN_STATES, AgeBand, CaseState, Relation, Role, Track
from storage.models import Case, CaseEvent, Engagement, Member, MentorSession, Offer, Subject
from storage.pseudonym import format_pseudonym

LIST_FILTERS = ("open", "mine", "overdue", "closed", "all")
LIST_LIMIT = 50


def _days_open(ctx: Ctx, case: Case) -> int:
    end = case.closed_at or ctx.now()
    return max(0, (end - case.received_at).days)


# A timeline entry's values in words: which label kind each key's value takes (per event kind where it differs).
_EVENT_VALUES = {"severity": "severity", "track": "track", "source": "source", "age": "age", "org": "org",
                 "level": "level", "reason": "close_reason", "kind": "offer_kind", "response": "response",
                 "from": "state", "to": "state", "found": "yes_no", "linked": "yes_no", "consent": "yes_no",
                 "deadline_met": "yes_no", "outcome": "yes_no", "relation": "relation", "result": "course_result",
                 "missed": "yes_no", "basis": "basis"}
_EVENT_OVERRIDES = {("referred", "to"): "org", ("followup", "kind"): "followup_kind",
                    ("outcome", "kind"): "followup_kind", ("track", "from"): "track", ("track", "to"): "track",
                    ("track", "switch"): "yes_no", ("severity", "from"): "severity", ("severity", "to"): "severity",
                    ("person_referred", "to"): "org"}


def event_detail(ctx: Ctx, event_kind: str, data: dict[str, object]) -> str:
    parts = []
    for key, value in sorted(data.items()):
        if value is None:
            continue
        kind = _EVENT_OVERRIDES.get((event_kind, key), _EVENT_VALUES.get(key))
        if key == "subject" and isinstance(value, str) and len(value) == 8:
            shown = format_pseudonym(value)
        elif key in ("mentor", "owner") and isinstance(value, str):
            shown = f"<@{value}>"
        elif key == "deadline" and isinstance(value, str):
            shown = ctx.fmt(datetime.fromisoformat(value))
        elif key == "date" and isinstance(value, str) and len(value) == 10:
            shown = ctx.fmt_day(ctx.cal.at(date.fromisoformat(value)))
        elif key == "categories" and isinstance(value, str):
            shown = labels(ctx.lang, "disclosure", value)
        else:
            shown = ctx.label(kind, value) if kind else str(value)
        parts.append(f"{ctx.label('event_key', key)}={shown}")
    return " ".join(parts)


def deadline_text(ctx: Ctx, case: Case) -> str:
    if case.referred_at is not None:
        return ctx.t("deadline.met") if case.deadline_met else ctx.t("deadline.missed")
    key = "deadline.overdue_since" if case.deadline_at < ctx.now() else "deadline.left_until"
    return ctx.t(key, deadline=ctx.fmt(case.deadline_at), relative=ctx.fmt_until(case.deadline_at))


@command("case list", "case list [open|mine|overdue|closed|all]", access.EVERYONE)
def case_list(ctx: Ctx, args: Args, _case: Case | None) -> Reply:
    only_options(args, set(), words=1)
    which = (args.words[0].lower() if args.words else "open")
    if which not in LIST_FILTERS:
        raise UsageError("bad_choice", option="filter", value=which, choices=", ".join(LIST_FILTERS))
    assert ctx.actor is not None
    stmt = select(Case)
    visible = access.visible_case_ids(ctx.session, ctx.actor)
    if visible is not None:
        stmt = stmt.where(col(Case.id).in_(visible))
    open_states = [s.value for s in OPEN_STATES]
    if which == "open":
        stmt = stmt.where(col(Case.state).in_(open_states))
    elif which == "closed":
        stmt = stmt.where(Case.state == CaseState.closed)
    elif which == "overdue":
        stmt = stmt.where(col(Case.state).in_(["new", "qualifying"]), col(Case.deadline_at) < ctx.now())
    elif which == "mine":
        mine = select(Engagement.case_id).where(Engagement.mentor_id == ctx.actor.id)
        persons = select(Subject.case_id).where(Subject.owner_id == ctx.actor.id)  # a family's person I own
        stmt = stmt.where(col(Case.state).in_(open_states), or_(
            Case.owner_id == ctx.actor.id, Case.reporter_id == ctx.actor.id, col(Case.id).in_(mine),
            col(Case.id).in_(persons)))
    cases = list(ctx.session.exec(stmt.order_by(col(Case.received_at).desc(), col(Case.id).desc())
                                  .limit(LIST_LIMIT + 1)))
    if not cases:
        return Reply(text=ctx.t("list.empty", which=ctx.label("list_filter", which)))
    lines = [_list_line(ctx, c) for c in cases[:LIST_LIMIT]]
    if len(cases) > LIST_LIMIT:
        lines.append(ctx.t("list.more", limit=LIST_LIMIT))
    return Reply(text="\n".join(lines), title=ctx.t("list.title", which=ctx.label("list_filter", which)))


def _list_line(ctx: Ctx, c: Case) -> str:
    if c.erased_at is not None:
        return retention.tombstone(ctx, c)
    line = ctx.t("list.line", ref=c.ref, state=ctx.label("state", c.state), severity=ctx.label("severity", c.severity),
                 track=ctx.label("track", c.track), org=ctx.label("org", c.responsible_org), days=_days_open(ctx, c),
                 deadline=deadline_text(ctx, c))
    return line + (f" · ⏸ {ctx.t('list.held')}" if c.hold_at is not None else "")


def _mentor_view(ctx: Ctx, case: Case) -> Reply:
    assert ctx.actor is not None
    reply = Reply(text=ctx.t("show.mentor_intro", ref=case.ref), title=case.ref)
    engagements = ctx.session.exec(select(Engagement).where(
        Engagement.case_id == case.id, Engagement.mentor_id == ctx.actor.id).order_by(col(Engagement.id)))
    for engagement in engagements:
        subject = ctx.session.get(Subject, engagement.subject_id)
        assert subject is not None
        sessions = list(ctx.session.exec(select(MentorSession).where(
            MentorSession.engagement_id == engagement.id, MentorSession.author_id == ctx.actor.id)
            .order_by(col(MentorSession.held_at).desc())))
        reply.fields.append(FieldLine(
            f"{format_pseudonym(subject.pseudonym)} · {ctx.label('offer_kind', engagement.kind)} · "
            f"{ctx.label('age', subject.age_band)}",
            ctx.t("show.engagement", state=ctx.label("engagement_state", engagement.state),
                  started=ctx.fmt(engagement.started_at),
                  sessions=len(sessions), last=ctx.fmt(sessions[0].held_at) if sessions else "—")))
        for entry in sessions[:10]:
            reply.fields.append(FieldLine(ctx.fmt_day(entry.held_at),
                                          ctx.decrypt(entry.note_ct, entry.note_kid, NOTE_AAD)))
    ctx.audit("case.view", case_ref=case.ref, detail={"view": "mentor"})
    return reply


@command("case show", "case show KE-…", access.EVERYONE, case_arg=True)
def case_show(ctx: Ctx, args: Args, case: Case | None) -> Reply:
    assert case is not None and ctx.actor is not None
    only_options(args, set())
    if case.erased_at is not None:
        ctx.audit("case.view", case_ref=case.ref, detail={"view": "tombstone"})
        return Reply(title=case.ref, text=retention.tombstone(ctx, case) + "\n" + ctx.t("tombstone.show"))
    if ctx.actor.role == Role.mentor:
        return _mentor_view(ctx, case)
    leads = ctx.actor.role in (Role.admin, Role.secretariat)
    f = FieldLine
    reply = Reply(title=case.ref, text=ctx.t("show.intro", ref=case.ref, state=ctx.label("state", case.state)),
                  buttons=case_buttons(ctx, case)[1:])
    reply.fields += [
        f(ctx.t("field.severity"), ctx.label("severity", case.severity)),
        f(ctx.t("field.track"), ctx.label("track", case.track)),
        f(ctx.t("field.level"), ctx.label("level", case.level)),
        f(ctx.t("field.source"), ctx.label("source", case.source)),
        f(ctx.t("field.district"), case.district), f(ctx.t("field.basis"), ctx.label("basis", case.basis)),
        f(ctx.t("field.indicators"), labels(ctx.lang, "indicator", case.indicators)),
        f(ctx.t("field.received"), ctx.fmt(case.received_at)),
        f(ctx.t("field.deadline"), deadline_text(ctx, case)),
        f(ctx.t("field.responsible"), ctx.label("org", case.responsible_org)),
        f(ctx.t("field.owner"), mention(member_by_id(ctx, case.owner_id))),
        f(ctx.t("field.days_open"), str(_days_open(ctx, case))),
    ]
    if case.close_reason:
        reply.fields.append(f(ctx.t("field.close_reason"), ctx.label("close_reason", case.close_reason)))
    if case.hold_at is not None:
        reply.fields.append(f(ctx.t("field.hold"), retention.hold_text(ctx, case)))
    elif case.state == CaseState.closed:
        reply.fields.append(f(ctx.t("field.erasure"), retention.due_text(ctx, case)))
    if case.release_at is not None:
        reply.fields.append(f(ctx.t("field.release"), ctx.fmt_day(case.release_at)))
    subjects = subjects_of(ctx, case)
    for subject in subjects:
        flags = [ctx.t("subject.linked")] if subject.linked else []
        if leads and subject.possible_repeat:
            flags.append(ctx.t("subject.repeat"))
        if len(subjects) > 1:  # a family: each person with their own track, relation, authority, owner
            line = persons.person_line(ctx, case, subject)
            reply.fields.append(f(ctx.t("field.subject"), " · ".join([line, *flags])))
            continue
        reply.fields.append(f(ctx.t("field.subject"), " · ".join(
            [format_pseudonym(subject.pseudonym), ctx.label("age", subject.age_band), *flags])))
    if case.state in (CaseState.new, CaseState.qualifying):
        missing = ", ".join(ctx.label("org", o) for o in missing_checks(ctx, case))
        reply.fields.append(f(ctx.t("field.missing_checks"), missing or ctx.t("none")))
    pseudonyms = {s.id: format_pseudonym(s.pseudonym) for s in subjects}
    for offer in ctx.session.exec(select(Offer).where(Offer.case_id == case.id).order_by(col(Offer.id))):
        line = (f"{pseudonyms.get(offer.subject_id)} · {ctx.label('offer_kind', offer.kind)} · "
                f"{ctx.label('offer_state', offer.state)}")
        reply.fields.append(f(ctx.t("field.offer"), line))
    for eng in ctx.session.exec(select(Engagement).where(Engagement.case_id == case.id).order_by(col(Engagement.id))):
        result = f" · {ctx.label('course_result', eng.result)}" if eng.result else ""
        reply.fields.append(f(ctx.t("field.engagement"), f"{pseudonyms.get(eng.subject_id)} · "
                              f"{ctx.label('offer_kind', eng.kind)} · {mention(member_by_id(ctx, eng.mentor_id))} · "
                              f"{ctx.label('engagement_state', eng.state)}{result}"))
    if (checklist := steps.show_field(ctx, case)) is not None:
        reply.fields.append(checklist)
    reply.fields += disclosures.show_fields(ctx, case, {s.id: s.pseudonym for s in subjects})
    reply.fields.append(f(ctx.t("field.summary"), ctx.decrypt(case.summary_ct, case.summary_kid, SUMMARY_AAD)))
    events = list(ctx.session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                   .order_by(col(CaseEvent.id).desc()).limit(10)))
    actors = {m.id: m for m in ctx.session.exec(select(Member).where(
        col(Member.id).in_({e.actor_id for e in events if e.actor_id})))}
    for event in reversed(events):
        detail = event_detail(ctx, event.kind, json.loads(event.data))
        text = ctx.decrypt(event.text_ct, event.text_kid, EVENT_TEXT_AAD)
        reply.fields.append(f(f"{ctx.fmt(event.at)} {mention(actors.get(event.actor_id))}",
                              " — ".join(x for x in (f"{ctx.label('event', event.kind)} {detail}".strip(), text) if x)))
    ctx.audit("case.view", case_ref=case.ref)
    return reply


@command("case note", 'case note KE-… "text"', access.STAFF | {Role.adhoc}, case_arg=True)
def case_note(ctx: Ctx, args: Args, case: Case | None) -> Reply:
    assert case is not None
    only_options(args, set(), texts=1)
    if not args.texts or not args.texts[0].strip():
        raise UsageError("missing_text")
    if len(args.texts[0]) > 4000:
        raise UsageError("too_long", option="text", limit=4000)
    add_event(ctx, case, "note", {}, text=args.texts[0].strip())
    ctx.audit("case.note", case_ref=case.ref)
    return Reply(text=ctx.t("note.added", ref=case.ref))


def subject_form(ctx: Ctx, ref: str, values: dict[str, str] | None = None) -> Form:
    given = values or {}
    return Form("case.subject", ctx.t("form.subject", ref=ref), (
        FormField("age", ctx.t("field.age"), "select", tuple(AgeBand), required=True,
                  option_labels=words(ctx, "age", tuple(AgeBand))),
        FormField("identifier", ctx.t("field.identifier"), "text", hint=ctx.t("hint.identifier"), never_stored=True),
        FormField("track", ctx.t("field.track"), "select", tuple(Track),
                  option_labels=words(ctx, "track", tuple(Track))),
        FormField("relation", ctx.t("field.relation"), "select", tuple(Relation),
                  option_labels=words(ctx, "relation", tuple(Relation))),
    ), ctx.t("form.submit"), {"case": ref, **{k: v for k, v in given.items() if k in ("track", "relation") and v}})


def _subject_added(ctx: Ctx, case: Case, subject: Subject) -> Reply:
    persons.person_added(ctx, case, subject)
    ctx.audit("case.subject_add", case_ref=case.ref, detail={"track": subject.track, "relation": subject.relation})
    return Reply(text=ctx.t("subject.added", ref=case.ref, subject=format_pseudonym(subject.pseudonym),
                            age=ctx.label("age", subject.age_band)),
                 fields=[FieldLine(ctx.t("field.person"), persons.person_line(ctx, case, subject))])


@command("case subject add", "case subject add KE-… age=… [track=…] [relation=child|parent|sibling|partner|other]",
         access.STAFF, case_arg=True)
def subject_add(ctx: Ctx, args: Args, case: Case | None) -> Reply:
    assert case is not None
    only_options(args, {"age", "track", "relation"})
    if case.state == CaseState.closed:
        raise UsageError("case_closed", ref=case.ref)
    track = enum_value(Track, args.options["track"], "track").value if "track" in args.options else None
    relation = enum_value(Relation, args.options["relation"], "relation").value if "relation" in args.options else None
    if "age" not in args.options:
        return Reply(text=ctx.t("subject.form_opened", ref=case.ref),
                     form=subject_form(ctx, case.ref, {"track": track or "", "relation": relation or ""}))
    age = enum_value(AgeBand, args.options["age"], "age")
    return _subject_added(ctx, case, add_subject(ctx, case, age, None, track, relation))


@form("case.subject", access.STAFF, frozenset({"identifier"}))
def submit_subject(ctx: Ctx, values: dict[str, str], context: dict[str, str]) -> FormResult:
    ref = case_ref(context.get("case"))
    case = ctx.session.exec(select(Case).where(Case.ref == ref)).first()
    if case is None or case.state == CaseState.closed:
        raise UsageError("unknown_case", ref=ref)
    errors: dict[str, str] = {}
    chosen: dict[str, str | None] = {}
    for name, vocabulary in (("age", AgeBand), ("track", Track), ("relation", Relation)):
        raw_value = (values.get(name) or context.get(name) or "").strip()
        if not raw_value and name != "age":
            chosen[name] = None
            continue
        try:
            chosen[name] = enum_value(vocabulary, raw_value, name).value  # type: ignore[arg-type]
        except UsageError as exc:
            errors[name] = ctx.t(f"usage.{exc.key}", **exc.params)
    errors |= _identifier_errors(ctx, values, ["identifier"])
    if errors:
        return FormResult(errors=errors)
    raw = (values.get("identifier") or "").strip()
    subject = add_subject(ctx, case, AgeBand(chosen["age"]), identifier_token(ctx, raw) if raw else None,
                          chosen["track"], chosen["relation"])
    return FormResult(reply=_subject_added(ctx, case, subject))
