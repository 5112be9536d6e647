"""Follow-up rules (SPEC.md §4): which use case creates, moves or cancels which follow-up.

Functions take the session and plain values so use cases and the sweep share them; they never commit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlmodel import Session, col, select

from commands.time.calendar import UnitCalendar
from storage.enums import Severity
from storage.models import Case, Engagement, FollowUp, Offer, Subject

LIVE = ("pending", "sent", "snoozed")
CHECKIN_AFTER = timedelta(days=7)
OWNER_KINDS = ("visitation", "reoffer", "assess_6m", "outcome_12m", "review")


def add_months(instant: datetime, months: int, tz: ZoneInfo) -> datetime:
    """Calendar months in local wall-clock time: 10:00 in March is 10:00 in September, across DST."""
    return (instant.astimezone(tz) + relativedelta(months=months)).astimezone(UTC)


def _new(session: Session, now: datetime, **values: object) -> FollowUp:
    followup = FollowUp(created_at=now, updated_at=now, **values)  # type: ignore[arg-type]
    if followup.notify_at is None:
        followup.notify_at = followup.due_at
    session.add(followup)
    session.flush()
    return followup


def _live(session: Session, *where: object) -> list[FollowUp]:
    return list(session.exec(select(FollowUp).where(col(FollowUp.state).in_(LIVE), *where)))  # type: ignore[arg-type]


def _finish(followup: FollowUp, state: str, now: datetime) -> None:
    followup.state, followup.notify_at, followup.updated_at = state, None, now


def open_visitation(session: Session, case: Case, now: datetime, start: datetime | None = None) -> FollowUp:
    """Warn at 75 % of the window (from receipt, or from a reopening); the sweep moves it on to overdue."""
    start = start or case.received_at
    window = case.deadline_at - start
    return _new(session, now, kind="visitation", case_id=case.id, assignee_id=case.owner_id,
                due_at=case.deadline_at, notify_at=start + window * 0.75, stage="warn",
                urgent=case.severity == Severity.critical)


def resolve_visitation(session: Session, case: Case, now: datetime) -> None:
    for followup in _live(session, FollowUp.case_id == case.id, FollowUp.kind == "visitation"):
        _finish(followup, "done", now)
        session.add(followup)


def owner_changed(session: Session, case: Case, now: datetime) -> None:
    for followup in _live(session, FollowUp.case_id == case.id, col(FollowUp.kind).in_(OWNER_KINDS)):
        followup.assignee_id, followup.updated_at = case.owner_id, now
        session.add(followup)


def owner_of(session: Session, case: Case, subject_id: int | None) -> int | None:
    """Who answers for a person's follow-ups: the person's own owner (a family case), else the case's."""
    subject = session.get(Subject, subject_id) if subject_id is not None else None
    return (subject.owner_id if subject is not None else None) or case.owner_id


def person_owner_changed(session: Session, case: Case, subject: Subject, now: datetime) -> None:
    for followup in _live(session, FollowUp.case_id == case.id, FollowUp.subject_id == subject.id,
                          col(FollowUp.kind).in_(OWNER_KINDS)):
        followup.assignee_id, followup.updated_at = subject.owner_id or case.owner_id, now
        session.add(followup)


def severity_changed(session: Session, case: Case, now: datetime, deadline_moved: bool) -> None:
    """A case not yet referred: a deadline brought forward is warned about at 75 % of what is left of it,
    from the change; the reminder's pace follows the new level (a critical one goes out at once)."""
    live = _live(session, FollowUp.case_id == case.id, FollowUp.kind == "visitation")
    if not deadline_moved:
        for followup in live:
            followup.urgent, followup.updated_at = case.severity == Severity.critical, now
            session.add(followup)
        return
    for followup in live:
        _finish(followup, "cancelled", now)
        session.add(followup)
    open_visitation(session, case, now, start=now)


def offer_declined(session: Session, case: Case, offer: Offer, now: datetime, tz: ZoneInfo) -> list[FollowUp]:
    """A declined offer is made again: follow-ups at +3 and +6 months."""
    base = offer.responded_at or now
    owner = owner_of(session, case, offer.subject_id)
    return [_new(session, now, kind="reoffer", case_id=case.id, subject_id=offer.subject_id, offer_id=offer.id,
                 assignee_id=owner, due_at=add_months(base, months, tz), stage=f"{months}m")
            for months in (3, 6)]


def offer_made(session: Session, offer: Offer, now: datetime) -> None:
    """Made again: the reminders to make it again are done (a new decline sets new ones)."""
    earlier = select(Offer.id).where(Offer.subject_id == offer.subject_id, Offer.kind == offer.kind,
                                     Offer.id != offer.id)
    for followup in _live(session, FollowUp.kind == "reoffer", col(FollowUp.offer_id).in_(earlier)):
        _finish(followup, "done", now)
        session.add(followup)


def offer_accepted(session: Session, offer: Offer, now: datetime) -> None:
    """Accepted in between: the re-offers of that kind for that subject are no longer needed."""
    earlier = select(Offer.id).where(Offer.subject_id == offer.subject_id, Offer.kind == offer.kind)
    for followup in _live(session, FollowUp.kind == "reoffer", col(FollowUp.offer_id).in_(earlier)):
        _finish(followup, "cancelled", now)
        session.add(followup)


def mentor_assigned(session: Session, engagement: Engagement, now: datetime) -> FollowUp:
    for followup in _live(session, FollowUp.engagement_id == engagement.id, FollowUp.kind == "mentor_checkin"):
        followup.assignee_id, followup.updated_at = engagement.mentor_id, now
        session.add(followup)
        return followup
    return _new(session, now, kind="mentor_checkin", case_id=engagement.case_id, subject_id=engagement.subject_id,
                engagement_id=engagement.id, assignee_id=engagement.mentor_id, due_at=now + CHECKIN_AFTER)


def session_logged(session: Session, engagement: Engagement, held_at: datetime, now: datetime) -> None:
    for followup in _live(session, FollowUp.engagement_id == engagement.id, FollowUp.kind == "mentor_checkin"):
        due = max(followup.due_at - CHECKIN_AFTER, held_at) + CHECKIN_AFTER
        followup.due_at = followup.notify_at = due
        followup.state, followup.updated_at = "pending", now
        session.add(followup)


def engagement_ended(session: Session, case: Case, engagement: Engagement, now: datetime,
                     tz: ZoneInfo) -> list[FollowUp]:
    """The mentor check-ins stop; a completed course gets its outcome checks at +6 and +12 months (a course
    that ended otherwise — dropped out, moved — is not what the seed's targets measure, and gets none)."""
    for followup in _live(session, FollowUp.engagement_id == engagement.id, FollowUp.kind == "mentor_checkin"):
        _finish(followup, "cancelled", now)
        session.add(followup)
    if engagement.result not in (None, "completed"):
        return []
    ended = engagement.ended_at or now
    owner = owner_of(session, case, engagement.subject_id)
    return [_new(session, now, kind=kind, case_id=case.id, subject_id=engagement.subject_id,
                 engagement_id=engagement.id, assignee_id=owner, due_at=add_months(ended, months, tz))
            for kind, months in (("assess_6m", 6), ("outcome_12m", 12))]


def case_closed(session: Session, case: Case, now: datetime) -> None:
    """Closing a case cancels its open reminders, except the outcome checks of ended engagements."""
    for followup in _live(session, FollowUp.case_id == case.id,
                          col(FollowUp.kind).not_in(("assess_6m", "outcome_12m"))):
        _finish(followup, "cancelled", now)
        session.add(followup)


def add_custom(session: Session, case: Case, assignee_id: int | None, due_at: datetime, text_ct: bytes,
               text_kid: str, now: datetime, kind: str = "custom") -> FollowUp:
    return _new(session, now, kind=kind, case_id=case.id, assignee_id=assignee_id, due_at=due_at,
                text_ct=text_ct, text_kid=text_kid)


def mark(followup: FollowUp, state: str, now: datetime, notify_at: datetime | None = None) -> None:
    followup.state, followup.notify_at, followup.updated_at = state, notify_at, now


def snooze_until(now: datetime, period: str, cal: UnitCalendar) -> datetime:
    """A day or a week on, landing in the unit's working hours (the next working day's start if it falls
    outside them): a reminder snoozed at night comes back in the morning, not at 02:36."""
    return cal.delivery_time(now + (timedelta(weeks=1) if period == "1w" else timedelta(days=1)))
