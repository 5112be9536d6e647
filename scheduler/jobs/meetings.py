"""The worker's meeting duties: keep series materialised ahead, send each draft agenda to the secretariat
(48 h before by default) and publish it to the unit channel (24 h before) unless the secretariat holds it.

Exactly once with several workers: each step claims its meeting with a conditional UPDATE (… WHERE
draft_sent_at IS NULL) in the transaction that queues the message, and the outbox's dedupe key backs it
up. A meeting created after its draft or publish moment is left to the secretariat (`agenda publish`):
nobody wants an agenda pushed out the minute an urgent meeting is called.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from commands.context import Services
from commands.meetings.agenda import publish, send_draft
from commands.time.materialise import extend_all
from storage.db import unit_of_work
from storage.models import Meeting

log = logging.getLogger(__name__)


@dataclass
class MeetingTickResult:
    materialised: int = 0
    drafts: int = 0
    published: int = 0


def _claim(session: Session, meeting_id: int, column: str, now: datetime, *, unheld: bool = False) -> bool:
    stmt = update(Meeting).where(col(Meeting.id) == meeting_id, getattr(Meeting, column).is_(None),
                                 Meeting.state == "scheduled")
    if unheld:
        stmt = stmt.where(Meeting.held == False)  # noqa: E712
    return session.exec(stmt.values({column: now})).rowcount == 1  # type: ignore[call-overload]


def _due(session: Session, now: datetime, lead: timedelta, column: str) -> list[int]:
    stmt = (select(Meeting.id, Meeting.starts_at, Meeting.created_at)
            .where(Meeting.state == "scheduled", col(Meeting.starts_at) > now,
                   col(Meeting.starts_at) <= now + lead, getattr(Meeting, column).is_(None))
            .order_by(col(Meeting.starts_at)))
    return [mid for mid, starts, created in session.exec(stmt) if starts - lead >= created]  # type: ignore[misc]


def meeting_tick(svc: Services, now: datetime) -> MeetingTickResult:
    """One pass as of `now`: called by the worker's job, `python -m scheduler tick` and the console."""
    settings = svc.settings
    result = MeetingTickResult()
    with unit_of_work(svc.engine) as session:
        result.materialised = extend_all(session, now, settings.meeting_horizon_days, svc.calendar(session))
    draft_lead = timedelta(hours=settings.agenda_draft_hours)
    publish_lead = timedelta(hours=settings.agenda_publish_hours)
    with unit_of_work(svc.engine) as session:
        drafts = _due(session, now, draft_lead, "draft_sent_at")
    for meeting_id in drafts:
        with unit_of_work(svc.engine) as session:
            if _claim(session, meeting_id, "draft_sent_at", now):
                meeting = session.get(Meeting, meeting_id)
                assert meeting is not None
                session.refresh(meeting)
                send_draft(svc, session, meeting, now)
                result.drafts += 1
    with unit_of_work(svc.engine) as session:
        publishing = _due(session, now, publish_lead, "published_at")
    for meeting_id in publishing:
        with unit_of_work(svc.engine) as session:
            if _claim(session, meeting_id, "published_at", now, unheld=True):
                meeting = session.get(Meeting, meeting_id)
                assert meeting is not None
                session.refresh(meeting)
                meeting.published_at = None  # publish() sets it as it freezes the version it sends
                publish(svc, session, meeting, now, automatic=True)
                result.published += 1
    if result.drafts or result.published or result.materialised:
        log.info("meetings at %s: %d materialised, %d drafts, %d published", now.isoformat(),
                 result.materialised, result.drafts, result.published)
    return result
