"""Changing a case's track (`case track KE-… track=adult [switch=yes|no]`), and with it, if the unit wants,
its checklist: the new track's procedure replaces the unfinished steps of the old one (docs/profile.md).

Only the case owner or the secretariat changes a track. A case whose checklist came from another track's
procedure is not changed until the user says which checklist it keeps: the reply asks, with *Switch* and
*Keep* buttons that repeat the command with `switch=yes` or `switch=no`. Done and skipped steps, and steps a
user added by hand, always stay; `switch=yes` removes the old procedure's open steps (their reminders are
cancelled) and appends the new track's steps from the profile's current version, numbered after the kept
ones. The timeline (`track` event) and the audit entry record the old and new track and the step numbers
removed and added."""

from __future__ import annotations

from sqlmodel import func, select

from commands import access
from commands.cases import steps
from commands.cases.record import add_event
from commands.context import Ctx
from commands.errors import UsageError
from commands.followups import rules
from commands.parsing import enum_value, only_options, yes_no
from commands.registry import case_command
from commands.reply import Button, Reply
from commands.tokenizer import Args
from storage.enums import OPEN_STATES, CaseState, Track
from storage.models import Case, Engagement, FollowUp, Offer, Subject
from storage.profile import store
from storage.profile.tables import CaseStep

# when a switched-in step's anchor has already happened, it is due from the switch
_PASSED = {"referred": lambda ctx, case: case.referred_at is not None,
           "offer_declined": lambda ctx, case: ctx.session.exec(select(Offer.id).where(
               Offer.case_id == case.id, Offer.state == "declined")).first() is not None,
           "engagement_started": lambda ctx, case: ctx.session.exec(select(Engagement.id).where(
               Engagement.case_id == case.id)).first() is not None}


def _may_change(ctx: Ctx, case: Case) -> bool:
    actor = ctx.actor
    return actor is not None and (access.role_of(actor) in access.LEADS or actor.id == case.owner_id)


def _procedure_open(ctx: Ctx, case: Case) -> list[CaseStep]:
    """The open steps the old track's procedure gave the case (not the ones a user added)."""
    return [s for s in steps.case_steps(ctx, case) if s.state == "open" and s.title_ct is None]


def _switch(ctx: Ctx, case: Case) -> tuple[list[int], list[int]]:
    removed = []
    for step in _procedure_open(ctx, case):
        if step.followup_id is not None and (f := ctx.session.get(FollowUp, step.followup_id)) is not None:
            rules.mark(f, "cancelled", ctx.now())
            ctx.session.add(f)
        removed.append(step.n)
        ctx.session.delete(step)
    ctx.session.flush()
    current = store.current(ctx.session, ctx.settings)
    start = ctx.session.exec(select(func.max(CaseStep.n)).where(CaseStep.case_id == case.id)).one() or 0
    added = []
    for n, spec in enumerate(current.profile.steps(case.track), start=start + 1):
        step = CaseStep(case_id=case.id, n=n, profile_version=current.version,  # type: ignore[arg-type]
                        title_da=spec.title.da, title_en=spec.title.en, responsible=spec.responsible,
                        anchor=spec.anchor, due_offset=spec.due, required=spec.required_before_close,
                        on_agenda_when_late=spec.on_agenda_when_late)
        step.assignee_id = steps.assignee(ctx, case, spec.responsible)
        ctx.session.add(step)
        if spec.anchor == "received":
            steps.schedule(ctx, case, step, case.received_at)
        elif spec.anchor == "qualified" or (spec.anchor in _PASSED and _PASSED[spec.anchor](ctx, case)):
            steps.schedule(ctx, case, step, ctx.now())
        added.append(n)
    case.procedure_version = current.version
    ctx.session.add(case)
    ctx.session.flush()
    return removed, added


def _ask(ctx: Ctx, case: Case, track: str, pending: int) -> Reply:
    base = f"case track {case.ref} track={track}"
    return Reply(text=ctx.t("track.ask_n", ref=case.ref, old=ctx.label("track", case.track),
                            new=ctx.label("track", track), open=ctx.tn("n.open_steps", pending)),
                 buttons=[Button(ctx.t("button.track_switch"), "case.track_switch", case.ref, f"{base} switch=yes",
                                 style="primary"),
                          Button(ctx.t("button.track_keep"), "case.track_keep", case.ref, f"{base} switch=no")])


@case_command("case track", "case track KE-… track=TRACK [switch=yes|no]", access.STAFF)
def track_cmd(ctx: Ctx, args: Args, case: Case) -> Reply:
    only_options(args, {"track", "switch"}, words=0)
    if not _may_change(ctx, case):
        raise UsageError("track_owner_only", ref=case.ref)
    new = enum_value(Track, args.options.get("track"), "track").value
    switch = yes_no(args.options.get("switch"), "switch") if "switch" in args.options else None
    if CaseState(case.state) not in OPEN_STATES:
        raise UsageError("case_closed", ref=case.ref)
    if new == case.track:
        raise UsageError("track_same", ref=case.ref, track=ctx.label("track", new))
    has_checklist = case.procedure_version is not None
    pending = len(_procedure_open(ctx, case)) if has_checklist else 0
    if has_checklist and switch is None:
        ctx.audit("case.track", case_ref=case.ref, result="asked", detail={"from": case.track, "to": new})
        return _ask(ctx, case, new, pending)
    old, case.track = case.track, new
    ctx.session.add(case)
    for person in ctx.session.exec(select(Subject).where(Subject.case_id == case.id)):
        if person.track in (None, old):  # the persons on the case's track follow it; a family's others keep theirs
            person.track = new
            ctx.session.add(person)
    removed: list[int] = []
    added: list[int] = []
    if has_checklist and switch:
        removed, added = _switch(ctx, case)
    data: dict[str, object] = {"from": old, "to": new}
    if has_checklist:
        data |= {"switch": bool(switch), "removed": removed, "added": added}
    add_event(ctx, case, "track", data)
    ctx.audit("case.track", case_ref=case.ref, detail=data)
    words = {"ref": case.ref, "old": ctx.label("track", old), "new": ctx.label("track", new)}
    if not has_checklist:
        return Reply(text=ctx.t("track.changed", **words))
    if switch:
        return Reply(text=ctx.t("track.switched_n", **words, removed=ctx.tn("n.open_steps", len(removed)),
                                added=ctx.tn("n.new_steps", len(added))))
    return Reply(text=ctx.t("track.kept", **words))

