"""Roles and need-to-know (SPEC.md §1), in one place. The router calls these before any use case runs."""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.enums import Role
from storage.models import AgendaItem, Case, Engagement, Meeting, MeetingInvite, Member, Subject

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
