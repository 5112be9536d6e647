"""Roles and need-to-know (SPEC.md §1), in one place. The router calls these before any use case runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from commands import markup
from commands.errors import Refused
from storage.enums import Role
from storage.models import AgendaItem, Case, Engagement, Meeting, MeetingInvite, Member, Subject

if TYPE_CHECKING:
    from commands.context import Ctx

EVERYONE = frozenset(Role)
STAFF = frozenset({Role.admin, Role.secretariat, Role.member})
LEADS = frozenset({Role.admin, Role.secretariat})
ADMIN = frozenset({Role.admin})


def role_of(member: Member) -> Role:
    return Role(member.role)


def sees_all_cases(member: Member) -> bool:
    return role_of(member) in STAFF


def mentor_case_ids(session: Session, member: Member) -> set[int]:
    """Only while the engagement runs: a mentor's need to know ends with the engagement."""
    stmt = select(Engagement.case_id).where(Engagement.mentor_id == member.id, Engagement.state == "active")
    return set(session.exec(stmt))


def adhoc_case_ids(session: Session, member: Member) -> set[int]:
    """Cases assigned to an ad hoc participant, and the cases on the agenda of a meeting they are invited
    to while that meeting is open (the agenda's latest build; access ends when the meeting closes)."""
    owned = set(session.exec(select(Case.id).where(Case.owner_id == member.id)))  # type: ignore[arg-type]
    owned |= set(session.exec(select(Subject.case_id).where(Subject.owner_id == member.id)))  # a family's person
    invited = select(MeetingInvite.meeting_id).where(MeetingInvite.member_id == member.id)
    open_meetings = select(Meeting.id).where(col(Meeting.id).in_(invited), Meeting.state == "scheduled")
    on_agenda = session.exec(select(AgendaItem.case_id).where(col(AgendaItem.meeting_id).in_(open_meetings)))
    return owned | set(on_agenda)


def visible_case_ids(session: Session, member: Member) -> set[int] | None:
    """None means all cases."""
    role = role_of(member)
    if role in STAFF:
        return None
    if role is Role.mentor:
        return mentor_case_ids(session, member)
    return adhoc_case_ids(session, member)


def can_see(session: Session, member: Member, case: Case) -> bool:
    ids = visible_case_ids(session, member)
    return ids is None or case.id in ids


def visible_among(session: Session, members: list[Member], case_ids: set[int]) -> set[tuple[int, int]]:
    """Which of `case_ids` each member may see, as (member id, case id) pairs, in a constant number of queries
    (the sweep asks for a whole batch): the same rule as `can_see`."""
    pairs: set[tuple[int, int]] = set()
    mentors = {m.id for m in members if role_of(m) is Role.mentor}
    adhocs = {m.id for m in members if role_of(m) is Role.adhoc}
    for m in members:
        if role_of(m) in STAFF:
            pairs |= {(m.id, c) for c in case_ids}  # type: ignore[misc]
    if not case_ids:
        return pairs
    if mentors:
        pairs |= {(a, b) for a, b in session.exec(select(Engagement.mentor_id, Engagement.case_id).where(
            col(Engagement.mentor_id).in_(mentors), col(Engagement.case_id).in_(case_ids),
            Engagement.state == "active"))}
    if adhocs:
        pairs |= {(a, b) for a, b in session.exec(select(Case.owner_id, Case.id).where(
            col(Case.owner_id).in_(adhocs), col(Case.id).in_(case_ids)))}
        open_invites = (select(MeetingInvite.member_id, AgendaItem.case_id)
                        .join(Meeting, col(Meeting.id) == col(MeetingInvite.meeting_id))
                        .join(AgendaItem, col(AgendaItem.meeting_id) == col(Meeting.id))
                        .where(col(MeetingInvite.member_id).in_(adhocs), col(AgendaItem.case_id).in_(case_ids),
                               Meeting.state == "scheduled"))
        pairs |= {(a, b) for a, b in session.exec(open_invites)}
    return pairs


OWNER_ROLES = frozenset({Role.admin, Role.secretariat, Role.member, Role.adhoc})


def assignable(session: Session, member: Member, case: Case, what: str) -> str | None:
    """Whether work on `case` (`what`: "step", "owner", "mentor") may be given to `member`; None when it may,
    else the reason (`assign.…`, a key under `refused.`). A step or a follow-up is no reason to see a case:
    its assignee must already see it. Ownership grants an ad hoc participant the case (their role's rule: the
    cases assigned to them), an engagement grants a mentor theirs; the caller audits that grant."""
    if not member.active:
        return "assign.inactive"
    role = role_of(member)
    if what == "owner":
        return None if role in OWNER_ROLES else "assign.owner_role"
    if what == "mentor":
        return None if role in (Role.mentor, Role.member) else "assign.mentor_role"
    return None if can_see(session, member, case) else "assign.cannot_see"


def require_assignable(ctx: Ctx, member: Member, case: Case, what: str) -> None:
    """Refuse (audited, nothing changed) to give work on `case` to someone who may not have it; when the
    assignment itself gives the member the case (an ad hoc owner, a mentor's engagement), audit that grant."""
    reason = assignable(ctx.session, member, case, what)
    if reason is not None:
        raise Refused(reason, case_ref=case.ref, ref=case.ref, user=markup.mention(member))
    if what != "step" and not can_see(ctx.session, member, case):
        ctx.audit("access.grant", case_ref=case.ref, detail={"user": member.user_id, "as": what})
