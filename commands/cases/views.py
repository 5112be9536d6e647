"""Reading cases (list, show — audited) and adding to them (note, subject)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import col, func, or_, select

from commands import access
from commands.cases import advice, disclosures, erasure, persons, steps, timeline
from commands.cases.buttons import case_buttons
from commands.cases.concerns import add_subject, identifier_errors, identifier_token, words
from commands.cases.lifecycle import missing_checks
from commands.cases.record import add_event, subjects_of
from commands.context import Ctx
from commands.errors import UsageError
from commands.followups.rules import LIVE
from commands.markup import mention
from commands.members.people import member_by_id
from commands.messages import labels
from commands.parsing import case_ref, enum_value, only_options
from commands.registry import case_command, command, form
from commands.reply import FieldLine, Form, FormField, FormResult, Reply
from commands.tokenizer import Args
from storage import sealed
from storage.enums import OPEN_STATES, AgeBand, CaseState, Relation, Role, Track
from storage.models import Case, CaseEvent, Engagement, FollowUp, Member, MentorSession, Offer, Subject
from storage.pseudonym import format_pseudonym

LIST_FILTERS = ("open", "mine", "overdue", "closed", "all")
LIST_LIMIT = 50
TIMELINE, TIMELINE_ALL = 10, 1000  # events in `case show`, and in `case show KE-… all`
SEVERITY_ORDER = {"critical": 0, "high": 1, "normal": 2}


def _days_open(ctx: Ctx, case: Case) -> int:
    end = case.closed_at or ctx.now()
    return max(0, (end - case.received_at).days)


def _owner(ctx: Ctx, case: Case) -> str:
    """A member who has left owns nothing: their name is not shown as the owner."""
    owner = member_by_id(ctx, case.owner_id)
    if owner is not None and not owner.active:
        return ctx.t("show.owner_left")
    return mention(owner)


def deadline_text(ctx: Ctx, case: Case) -> str:
    if case.state == CaseState.closed and case.referred_at is None:  # closed before a referral: no countdown
        return ctx.t("deadline.closed", day=ctx.fmt_day(case.closed_at))
    if case.taken_over_at is not None and case.referred_at is not None:  # referred before koordinator
        return ctx.t("takeover.deadline", day=ctx.fmt_day(case.taken_over_at))
    if case.referred_at is not None:
        return ctx.t("deadline.met") if case.deadline_met else ctx.t("deadline.missed")
    key = "deadline.overdue_by" if case.deadline_at < ctx.now() else "deadline.left_for"
    return ctx.t(key, deadline=ctx.fmt(case.deadline_at), duration=ctx.fmt_duration(case.deadline_at - ctx.now()))


@command("case list", "case list [open|mine|overdue|closed|all]", access.EVERYONE)
def case_list(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set(), words=1)
    which = (args.words[0].lower() if args.words else "open")
    if which not in LIST_FILTERS:
        raise UsageError("bad_choice", option="filter", value=which, choices=", ".join(LIST_FILTERS),
                         labels_kind="list_filter")
    stmt = select(Case)
    visible = access.visible_case_ids(ctx.session, ctx.member)
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
        mine = select(Engagement.case_id).where(Engagement.mentor_id == ctx.member.id)
        persons = select(Subject.case_id).where(Subject.owner_id == ctx.member.id)  # a family's person I own
        stmt = stmt.where(col(Case.state).in_(open_states), or_(
            Case.owner_id == ctx.member.id, Case.reporter_id == ctx.member.id, col(Case.id).in_(mine),
            col(Case.id).in_(persons)))
    cases = list(ctx.session.exec(stmt))
    if not cases:
        return Reply(text=ctx.t("list.empty", which=ctx.label("list_filter", which)))
    next_due = _next_due(ctx, cases)
    cases.sort(key=lambda c: _urgency(ctx, c, next_due))
    lines = [_list_line(ctx, c, next_due.get(c.id)) for c in cases[:LIST_LIMIT]]
    if len(cases) > LIST_LIMIT:
        lines.append(ctx.t("list.more", limit=LIST_LIMIT))
    return Reply(text="\n".join(lines), title=ctx.t("list.title", which=ctx.label("list_filter", which)))


def _next_due(ctx: Ctx, cases: list[Case]) -> dict[int | None, datetime]:
    """Per case, its nearest deadline: the visitation deadline until it is referred, then its earliest open
    follow-up or step (one query for all of them)."""
    ids = [c.id for c in cases if c.state not in (CaseState.closed, CaseState.new, CaseState.qualifying)]
    found: dict[int | None, datetime] = {c.id: c.deadline_at for c in cases
                                         if c.state in (CaseState.new, CaseState.qualifying)}
    if ids:
        rows = ctx.session.exec(select(FollowUp.case_id, func.min(FollowUp.due_at)).where(
            col(FollowUp.case_id).in_(ids), col(FollowUp.state).in_(LIVE), FollowUp.kind != "visitation")
            .group_by(col(FollowUp.case_id)))
        found.update({case_id: due for case_id, due in rows if due is not None})
    return found


def _urgency(ctx: Ctx, c: Case, next_due: dict[int | None, datetime]) -> tuple[float, ...]:
    """What needs action first: overdue, then the nearest deadline, then severity, then the oldest; closed cases
    last, the most recently closed first."""
    if c.state == CaseState.closed or c.erased_at is not None:
        return (1, 0, -(c.closed_at or c.received_at).timestamp(), 0, 0)
    due = next_due.get(c.id)
    overdue = due is not None and due < ctx.now()
    return (0, 0 if overdue else 1 if due is not None else 2, due.timestamp() if due is not None else 0,
            SEVERITY_ORDER.get(c.severity, 9), c.received_at.timestamp())


def _list_line(ctx: Ctx, c: Case, next_due: datetime | None = None) -> str:
    if c.erased_at is not None:
        return erasure.tombstone(ctx, c)
    common = {"ref": c.ref, "severity": ctx.label("severity", c.severity), "track": ctx.label("track", c.track),
              "org": ctx.label("org", c.responsible_org), "days": _days_open(ctx, c)}
    if c.state == CaseState.closed:  # when and why it closed, never a countdown
        line = ctx.t("list.line_closed", day=ctx.fmt_day(c.closed_at), reason=ctx.label("close_reason", c.close_reason),
                     **common)
    else:
        line = ctx.t("list.line", state=ctx.label("state", c.state), deadline=deadline_text(ctx, c), **common)
    if c.state != CaseState.closed and c.referred_at is not None and next_due is not None:
        line += " · " + ctx.t("list.next_due", when=ctx.fmt(next_due), relative=ctx.fmt_until(next_due))
    return line + (f" · ⏸ {ctx.t('list.held')}" if c.hold_at is not None else "")


def _mentor_view(ctx: Ctx, case: Case) -> Reply:
    reply = Reply(text=ctx.t("show.mentor_intro", ref=case.ref), title=case.ref)
    engagements = ctx.session.exec(select(Engagement).where(
        Engagement.case_id == case.id, Engagement.mentor_id == ctx.member.id).order_by(col(Engagement.id)))
    for engagement in engagements:
        subject = ctx.session.get(Subject, engagement.subject_id)
        assert subject is not None
        sessions = list(ctx.session.exec(select(MentorSession).where(
            MentorSession.engagement_id == engagement.id, MentorSession.author_id == ctx.member.id)
            .order_by(col(MentorSession.held_at).desc())))
        reply.fields.append(FieldLine(
            f"{format_pseudonym(subject.pseudonym)} · {ctx.label('offer_kind', engagement.kind)} · "
            f"{ctx.label('age', subject.age_band)}",
            ctx.t("show.engagement_n", state=ctx.label("engagement_state", engagement.state),
                  started=ctx.fmt(engagement.started_at),
                  sessions=ctx.tn("n.sessions", len(sessions)),
                  last=ctx.fmt(sessions[0].held_at) if sessions else "—")))
        for entry in sessions[:10]:
            reply.fields.append(FieldLine(ctx.fmt_day(entry.held_at),
                                          ctx.decrypt(entry.note_ct, entry.note_kid, sealed.MENTOR_NOTE.label)))
    ctx.audit("case.view", case_ref=case.ref, detail={"view": "mentor"})
    return reply


@case_command("case show", "case show KE-… [all]", access.EVERYONE)
def case_show(ctx: Ctx, args: Args, case: Case) -> Reply:
    only_options(args, set(), words=1)
    whole = bool(args.words)
    if whole and args.words[0].lower() != "all":
        raise UsageError("unexpected_word", word=args.words[0][:40])
    if case.erased_at is not None:
        ctx.audit("case.view", case_ref=case.ref, detail={"view": "tombstone"})
        return Reply(title=case.ref, text=erasure.tombstone(ctx, case) + "\n" + ctx.t("tombstone.show"))
    if ctx.member.role == Role.mentor:
        return _mentor_view(ctx, case)
    leads = ctx.member.role in (Role.admin, Role.secretariat)
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
        f(ctx.t("field.owner"), _owner(ctx, case)),
        f(ctx.t("field.days_open"), str(_days_open(ctx, case))),
    ]
    if case.close_reason:
        reply.fields.append(f(ctx.t("field.close_reason"), ctx.label("close_reason", case.close_reason)))
    if case.hold_at is not None:
        reply.fields.append(f(ctx.t("field.hold"), erasure.hold_text(ctx, case)))
    elif case.state == CaseState.closed:
        reply.fields.append(f(ctx.t("field.erasure"), erasure.due_text(ctx, case)))
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
    if case.taken_over_at is not None:
        reply.fields.append(f(ctx.t("takeover.field.taken_over"), ctx.fmt_day(case.taken_over_at)))
    if (origin := advice.promoted_from(ctx, case)) is not None:
        reply.fields.append(origin)
    reply.fields += disclosures.show_fields(ctx, case, {s.id: s.pseudonym for s in subjects})
    summary = ctx.decrypt(case.summary_ct, case.summary_kid, sealed.CASE_SUMMARY.label)
    reply.fields.append(f(ctx.t("field.summary"), summary))
    total = ctx.session.exec(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case.id)).one()
    events = list(ctx.session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                   .order_by(col(CaseEvent.id).desc()).limit(TIMELINE_ALL if whole else TIMELINE)))
    if len(events) < total:  # say that the timeline is shortened, and how to see all of it
        reply.fields.append(f(ctx.t("field.timeline"), ctx.t("show.timeline_cut", shown=len(events), total=total,
                                                              ref=case.ref)))
    actors = {m.id: m for m in ctx.session.exec(select(Member).where(
        col(Member.id).in_({e.actor_id for e in events if e.actor_id})))}
    for event in reversed(events):
        text = ctx.decrypt(event.text_ct, event.text_kid, sealed.EVENT_TEXT.label)
        reply.fields.append(f(f"{ctx.fmt(event.at)} · {mention(actors.get(event.actor_id))}",
                              timeline.sentence(ctx, event.kind, json.loads(event.data), text)))
    ctx.audit("case.view", case_ref=case.ref, detail={"view": "all"} if whole else None)
    return reply


@case_command("case note", 'case note KE-… "text"', access.STAFF | {Role.adhoc})
def case_note(ctx: Ctx, args: Args, case: Case) -> Reply:
    only_options(args, set(), texts=1)
    if not args.texts or not args.texts[0].strip():
        raise UsageError("missing_text")
    if len(args.texts[0]) > 4000:
        raise UsageError("too_long", option="text", limit=4000)
    if case.state == CaseState.closed:  # "En lukket sag ændres ikke": reopen it first (the guide says so)
        raise UsageError("note_closed", ref=case.ref)
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
    # A derived pseudonym links to other cases: shown only to someone who may see every case (issue 26).
    shown = format_pseudonym(subject.pseudonym) if not subject.linked or access.sees_all_cases(ctx.member) else "—"
    return Reply(text=ctx.t("subject.added", ref=case.ref, subject=shown, age=ctx.label("age", subject.age_band)),
                 fields=[FieldLine(ctx.t("field.person"), persons.person_line(ctx, case, subject))])


@case_command("case subject add", "case subject add KE-… age=… [track=…] [relation=child|parent|sibling|partner|other]",
         access.STAFF)
def subject_add(ctx: Ctx, args: Args, case: Case) -> Reply:
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
    errors |= identifier_errors(ctx, values, ["identifier"])
    if errors:
        return FormResult(errors=errors)
    raw = (values.get("identifier") or "").strip()
    subject = add_subject(ctx, case, AgeBand(chosen["age"]),
                          identifier_token(ctx, raw, "case.subject") if raw else None,
                          chosen["track"], chosen["relation"])
    return FormResult(reply=_subject_added(ctx, case, subject))
