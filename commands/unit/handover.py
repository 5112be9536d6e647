"""A member leaves: the open work they own goes to another member, or to the secretariat, and nothing is left
with someone who can no longer see it (SPEC.md §10). `unit remove` asks first (commands.confirm)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import col, select

from commands import confirm
from commands.cases.record import add_event
from commands.cases.steps import title_of
from commands.context import Ctx
from commands.followups import rules
from commands.markup import mention
from commands.reply import Button, Form, FormField, Reply
from storage.enums import OPEN_STATES, EngagementState, Role
from storage.models import Case, Engagement, FollowUp, Member, Subject
from storage.profile.tables import CaseStep
from storage.pseudonym import format_pseudonym

OPEN = [s.value for s in OPEN_STATES]
RECEIVERS = [r.value for r in (Role.admin, Role.secretariat, Role.member, Role.mentor)]
FORM, EACH, SECRETARIAT, REST = "unit.handover", "each", "secretariat", "rest"


@dataclass
class Work:
    cases: list[Case] = field(default_factory=list)
    engagements: list[tuple[Engagement, Case]] = field(default_factory=list)
    steps: list[tuple[CaseStep, Case]] = field(default_factory=list)
    followups: list[tuple[FollowUp, Case]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.cases) + len(self.engagements) + len(self.steps) + len(self.followups)

    @property
    def empty(self) -> bool:
        return self.count == 0

    def state(self) -> str:
        return ",".join([*(f"C{c.id}" for c in self.cases), *(f"E{e.id}" for e, _ in self.engagements),
                         *(f"S{s.id}" for s, _ in self.steps), *(f"F{f.id}" for f, _ in self.followups)])


def open_work(ctx: Ctx, member: Member) -> Work:
    """Open cases the member owns, their active engagements, open steps and the reminders addressed to them
    that are not already counted with one of those."""
    work = Work()
    work.cases = list(ctx.session.exec(select(Case).where(Case.owner_id == member.id, col(Case.state).in_(OPEN),
                                                          col(Case.erased_at).is_(None)).order_by(col(Case.id))))
    work.engagements = list(ctx.session.exec(
        select(Engagement, Case).join(Case, col(Case.id) == col(Engagement.case_id))
        .where(Engagement.mentor_id == member.id, Engagement.state == EngagementState.active)
        .order_by(col(Engagement.id))))
    work.steps = list(ctx.session.exec(
        select(CaseStep, Case).join(Case, col(Case.id) == col(CaseStep.case_id))
        .where(CaseStep.assignee_id == member.id, CaseStep.state == "open", col(Case.state).in_(OPEN))
        .order_by(col(Case.id), col(CaseStep.n))))
    owned = {c.id for c in work.cases}
    covered = {s.followup_id for s, _ in work.steps}
    engaged = {e.id for e, _ in work.engagements}
    work.followups = [(f, c) for f, c in ctx.session.exec(
        select(FollowUp, Case).join(Case, col(Case.id) == col(FollowUp.case_id))
        .where(FollowUp.assignee_id == member.id, col(FollowUp.state).in_(rules.LIVE))
        .order_by(col(FollowUp.due_at), col(FollowUp.id)))
        if f.id not in covered and not (f.case_id in owned and f.kind in rules.OWNER_KINDS)
        and not (f.engagement_id in engaged and f.kind == "mentor_checkin")]
    return work


def _on(case_id: int | None, work: Work) -> Work:
    return Work(engagements=[(e, c) for e, c in work.engagements if c.id == case_id],
                steps=[(s, c) for s, c in work.steps if c.id == case_id],
                followups=[(f, c) for f, c in work.followups if c.id == case_id])


def split(work: Work) -> list[tuple[str, Work]]:
    """The work per form field: each owned case with everything on it, and the rest together."""
    parts = []
    for case in work.cases:
        part = _on(case.id, work)
        part.cases = [case]
        parts.append((f"case_{case.ref}", part))
    owned = {c.id for c in work.cases}
    rest = Work(engagements=[(e, c) for e, c in work.engagements if c.id not in owned],
                steps=[(s, c) for s, c in work.steps if c.id not in owned],
                followups=[(f, c) for f, c in work.followups if c.id not in owned])
    if not rest.empty:
        parts.append((REST, rest))
    return parts


def pick_fields(ctx: Ctx, member: Member, work: Work) -> list[FormField]:
    """A choice of receiver per owned case (the secretariat or an active staff member), and one for the rest
    (a mentor too: a leaving mentor's engagements go to another mentor)."""
    others = list(ctx.session.exec(select(Member).where(Member.active == True, Member.id != member.id,  # noqa: E712
                                                        col(Member.role).in_(RECEIVERS))
                                   .order_by(col(Member.display_name), col(Member.user_id))))

    def choices(people: list[Member]) -> dict[str, object]:
        return {"options": (SECRETARIAT, *(m.user_id for m in people)),
                "option_labels": (ctx.t("handover.secretariat"),
                                  *(f"{m.display_name or m.user_id} ({ctx.label('org', m.org)})" for m in people))}

    staff = choices([m for m in others if m.role != Role.mentor])
    fields = []
    for name, part in split(work):
        if part.cases:
            fields.append(FormField(name, ctx.t("handover.field_case", ref=part.cases[0].ref), "select",
                                    required=True, **staff))  # type: ignore[arg-type]
        else:
            fields.append(FormField(name, ctx.tn("handover.field_rest", part.count), "select", required=True,
                                    **choices(others)))  # type: ignore[arg-type]
    return fields


def pick_form(ctx: Ctx, member: Member, work: Work) -> Form:
    return Form(FORM, ctx.t("handover.form_title"), tuple(pick_fields(ctx, member, work)),
                ctx.t("handover.form_submit"), {"user": member.user_id, "state": work.state()})


def _heir_words(ctx: Ctx, heir: Member | None) -> str:
    return mention(heir) if heir is not None else ctx.t("handover.secretariat")


def _lines(ctx: Ctx, work: Work) -> list[str]:
    lines = []
    if work.cases:
        lines.append(ctx.tn("handover.cases", len(work.cases), items=", ".join(c.ref for c in work.cases)))
    if work.engagements:
        subjects = {s.id: s for s in ctx.session.exec(select(Subject).where(
            col(Subject.id).in_({e.subject_id for e, _ in work.engagements})))}
        lines.append(ctx.tn("handover.engagements", len(work.engagements), items="; ".join(
            f"{case.ref} {format_pseudonym(subjects[e.subject_id].pseudonym)} {ctx.label('offer_kind', e.kind)}"
            for e, case in work.engagements)))
    if work.steps:
        lines.append(ctx.tn("handover.steps", len(work.steps), items="; ".join(
            f"{case.ref} {s.n}. {title_of(ctx, s)}" for s, case in work.steps)))
    if work.followups:
        lines.append(ctx.tn("handover.followups", len(work.followups), items="; ".join(
            f"F-{f.id} {case.ref} {ctx.label('followup_kind', f.kind)}" for f, case in work.followups)))
    return lines


def question(ctx: Ctx, member: Member, heir: Member | None, work: Work) -> Reply | None:
    lines = [ctx.t("handover.intro", user=mention(member)), *_lines(ctx, work),
             ctx.t("handover.to", heir=_heir_words(ctx, heir))]
    if heir is None:
        lines.append(ctx.t("handover.other", user=member.user_id))
    each = Button(ctx.t("handover.each_button"), "unit.handover", member.user_id,
                  f"unit remove @{member.user_id} to={EACH}")
    state = f"remove|{member.id}|{heir.id if heir else '-'}|{work.state()}"
    asked = confirm.ask(ctx, state, lines, ctx.t("handover.button", heir=_heir_words(ctx, heir)), danger=True)
    if asked is not None:
        asked.buttons.insert(1, each)
    return asked


def hand_over(ctx: Ctx, member: Member, heir: Member | None, work: Work) -> str:
    """Everything in `work` to `heir` (None: the secretariat); the cases' timelines say so, and the heir is
    told. Returns the line for the reply."""
    now, to = ctx.now(), heir.id if heir is not None else None
    touched: dict[int | None, Case] = {}
    for case in work.cases:
        case.owner_id = to
        ctx.session.add(case)
        rules.owner_changed(ctx.session, case, now)
        touched[case.id] = case
    for engagement, case in work.engagements:
        engagement.mentor_id = to
        ctx.session.add(engagement)
        for followup in ctx.session.exec(select(FollowUp).where(
                FollowUp.engagement_id == engagement.id, col(FollowUp.state).in_(rules.LIVE),
                FollowUp.assignee_id == member.id)):
            followup.assignee_id, followup.updated_at = to, now
            ctx.session.add(followup)
        touched[case.id] = case
    for step, case in work.steps:
        step.assignee_id = to
        ctx.session.add(step)
        if step.followup_id is not None and (followup := ctx.session.get(FollowUp, step.followup_id)) is not None:
            followup.assignee_id, followup.updated_at = to, now
            ctx.session.add(followup)
        touched[case.id] = case
    for followup, case in work.followups:
        followup.assignee_id, followup.updated_at = to, now
        ctx.session.add(followup)
        touched[case.id] = case
    for case in touched.values():
        add_event(ctx, case, "handed_over", {"owner": heir.user_id} if heir is not None else {})
    refs = ", ".join(c.ref for c in touched.values())
    if heir is not None:
        if heir.user_id != ctx.inv.user_id:  # whoever removes the member knows already
            ctx.send_dm(heir.user_id, Reply(text=ctx.t("handover.heir_dm", user=mention(member), refs=refs)))
    else:
        ctx.post_channel("secretariat", Reply(text=ctx.t("handover.secretariat_notice", user=mention(member),
                                                         refs=refs)))
    return ctx.tn("handover.done", work.count, heir=_heir_words(ctx, heir), refs=refs)
