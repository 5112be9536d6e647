"""A member's home page (Slack App Home; other platforms may show it too): what needs their attention.

Platform-neutral on purpose: the adapter only renders the Reply. It shows references, categories and
deadlines — never free text — so, like a channel notice, opening it is not an audited case view.
"""

from __future__ import annotations

from sqlmodel import col, or_, select

from commands import access
from commands.cases import steps
from commands.cases.views import deadline_text
from commands.context import Ctx, Services
from commands.guide import tasks
from commands.parsing import only_options
from commands.registry import command
from commands.reply import Button, FieldLine, Invocation, Reply
from commands.reports.handlers import year_kpis
from commands.tokenizer import Args
from storage.db import unit_of_work
from storage.enums import OPEN_STATES, CaseState
from storage.models import Case, Engagement, Member, Subject

MAX_LINES = 15
MAX_BUTTONS = 5
AWAITING_REFERRAL = (CaseState.new.value, CaseState.qualifying.value)


def home(svc: Services, user_id: str) -> Reply:
    """Open cases of this member and their next deadlines; for the secretariat/admin also overdue visitations."""
    with unit_of_work(svc.engine) as session:
        ctx = Ctx(svc, session, Invocation(user_id=user_id, text="", platform="home"))
        member = session.exec(select(Member).where(Member.user_id == user_id)).first()
        if member is None or not member.active:
            return Reply(title=ctx.t("home.title"), text=ctx.t("home.unknown"), ok=False)
        ctx.actor = member
        return overview(ctx, member)


@command("home", "home", access.EVERYONE)
def home_command(ctx: Ctx, args: Args) -> Reply:
    """The same overview as Slack's App Home, on every platform (Teams: a card that refreshes itself)."""
    only_options(args, set())
    return overview(ctx, ctx.member)


def overview(ctx: Ctx, member: Member) -> Reply:
    """What needs this member's attention: the data as home() reads it, in one Reply."""
    session = ctx.session
    mine = _my_open_cases(ctx, member)
    reply = Reply(title=ctx.t("home.title"), text=ctx.t("home.intro", role=ctx.label("role", member.role),
                                                                org=ctx.label("org", member.org)))
    reply.fields.append(FieldLine(ctx.t("home.mine", count=len(mine)), _lines(ctx, mine) or ctx.t("home.none")))
    upcoming = sorted((c for c in mine if c.state in AWAITING_REFERRAL), key=lambda c: c.deadline_at)
    reply.fields.append(FieldLine(ctx.t("home.deadlines"), _deadlines(ctx, upcoming) or ctx.t("home.none")))
    if (my_steps := steps.my_steps_field(ctx, member)) is not None:
        reply.fields.append(my_steps)
    if access.role_of(member) in access.LEADS:
        overdue = list(session.exec(
            select(Case).where(col(Case.state).in_(AWAITING_REFERRAL), col(Case.deadline_at) < ctx.now())
            .order_by(col(Case.deadline_at)).limit(MAX_LINES + 1)))
        reply.fields.append(FieldLine(ctx.t("home.overdue", count=min(len(overdue), MAX_LINES)),
                                      _deadlines(ctx, overdue) or ctx.t("home.none")))
        reply.fields.append(year_kpis(ctx))
    reply.buttons = [Button(ctx.t("button.show") + f" {c.ref}", "case.show", c.ref, f"case show {c.ref}")
                     for c in (upcoming or mine)[:MAX_BUTTONS]]
    reply.buttons += tasks.task_buttons(ctx, access.role_of(member))  # the same tasks as `help`
    return reply


def _my_open_cases(ctx: Ctx, member: Member) -> list[Case]:
    """Cases this member reported, owns or mentors in — filtered by what the role may see at all."""
    mentored = select(Engagement.case_id).where(Engagement.mentor_id == member.id)
    persons = select(Subject.case_id).where(Subject.owner_id == member.id)  # a family's person they own
    stmt = select(Case).where(col(Case.state).in_([s.value for s in OPEN_STATES]), or_(
        Case.owner_id == member.id, Case.reporter_id == member.id, col(Case.id).in_(mentored),
        col(Case.id).in_(persons)))
    visible = access.visible_case_ids(ctx.session, member)
    if visible is not None:
        stmt = stmt.where(col(Case.id).in_(visible))
    return list(ctx.session.exec(stmt.order_by(col(Case.deadline_at), col(Case.id)).limit(MAX_LINES + 1)))


def _lines(ctx: Ctx, cases: list[Case]) -> str:
    lines = [f"{c.ref} · {ctx.label('state', c.state)} · {ctx.label('severity', c.severity)} · "
             f"{ctx.label('track', c.track)} · {ctx.label('org', c.responsible_org)}"
             for c in cases[:MAX_LINES]]
    if len(cases) > MAX_LINES:
        lines.append(ctx.t("list.more", limit=MAX_LINES))
    return "\n".join(lines)


def _deadlines(ctx: Ctx, cases: list[Case]) -> str:
    lines = [f"{c.ref} · {ctx.label('severity', c.severity)} · {ctx.label('track', c.track)} · {deadline_text(ctx, c)}"
             for c in cases[:MAX_LINES]]
    if len(cases) > MAX_LINES:
        lines.append(ctx.t("list.more", limit=MAX_LINES))
    return "\n".join(lines)
