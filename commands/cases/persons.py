"""A family case's persons (SPEC.md §10): each has its own track, age group, relation in the case,
responsible authority, owner, checklist and offers. The case's own track, authority and owner are those of its
first person (the defaults of every person added without their own); the case is `referred` at its first
referral (docs/guide.md, "Familier")."""

from __future__ import annotations

from sqlmodel import select

from commands import access
from commands.cases import steps
from commands.cases.record import add_event, subject_by_pseudonym, subjects_of
from commands.context import Ctx
from commands.errors import UsageError
from commands.markup import mention
from commands.members.people import member_by_id
from commands.parsing import enum_value, only_options
from commands.registry import case_command
from commands.reply import FieldLine, Reply
from commands.tokenizer import Args
from storage.enums import OPEN_STATES, CaseState, Relation, Track
from storage.models import Case, Member, Subject
from storage.pseudonym import format_pseudonym


def track_of(case: Case, subject: Subject) -> str:
    return subject.track or case.track


def person_line(ctx: Ctx, case: Case, subject: Subject, owners: dict[int, Member] | None = None) -> str:
    """`7KQ2-M9XD · 15-17 år · barn · søskende · Socialforvaltningen · @owner` — categories and a pseudonym."""
    owner_id = subject.owner_id
    owner = (owners or {}).get(owner_id) if owners is not None and owner_id else member_by_id(ctx, owner_id)
    parts = [format_pseudonym(subject.pseudonym), ctx.label("age", subject.age_band),
             ctx.label("track", track_of(case, subject))]
    if subject.relation:
        parts.append(ctx.label("relation", subject.relation))
    if subject.responsible_org:
        parts.append(ctx.label("org", subject.responsible_org))
    elif CaseState(case.state) not in (CaseState.new, CaseState.qualifying):
        parts.append(ctx.t("person.not_referred"))
    if owner is not None:
        parts.append(mention(owner))
    return " · ".join(parts)


def person_added(ctx: Ctx, case: Case, subject: Subject) -> None:
    """A person added to a case whose checklist has started gets their own track's steps (when it differs)."""
    if case.procedure_version is not None and track_of(case, subject) != case.track:
        steps.attach_person(ctx, case, subject)


def family(ctx: Ctx, case: Case) -> bool:
    return len(subjects_of(ctx, case)) > 1


@case_command("case subject set", "case subject set KE-… subject=PSEUDONYM [track=…] [relation=…]", access.STAFF)
def subject_set(ctx: Ctx, args: Args, case: Case) -> Reply:
    """A person's own track or relation in the case (the first person's track is the case's: `case track`)."""
    only_options(args, {"subject", "track", "relation"})
    subject = subject_by_pseudonym(ctx, case, args.options.get("subject"))
    if "track" not in args.options and "relation" not in args.options:
        raise UsageError("missing_option", option="track", choices="track=…, relation=…")
    if CaseState(case.state) not in OPEN_STATES:
        raise UsageError("case_closed", ref=case.ref)
    data: dict[str, object] = {"subject": subject.pseudonym}
    if "track" in args.options:
        track = enum_value(Track, args.options["track"], "track").value
        first = ctx.session.exec(select(Subject.id).where(Subject.case_id == case.id).order_by(Subject.id)).first()
        if first == subject.id and track != case.track:
            raise UsageError("person_first_track", ref=case.ref)
        data["track"], subject.track = track, track
    if "relation" in args.options:
        relation = enum_value(Relation, args.options["relation"], "relation").value
        data["relation"], subject.relation = relation, relation
    ctx.session.add(subject)
    ctx.session.flush()
    if "track" in data:
        person_added(ctx, case, subject)
    add_event(ctx, case, "person", data)
    ctx.audit("case.subject_set", case_ref=case.ref, detail={k: v for k, v in data.items() if k != "subject"})
    return Reply(text=ctx.t("person.changed", ref=case.ref, subject=format_pseudonym(subject.pseudonym)),
                 fields=[FieldLine(ctx.t("field.person"), person_line(ctx, case, subject))])
