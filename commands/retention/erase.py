"""Erasing a case: what goes, what stays (docs/privacy.md), and the daily retention job that erases due cases.

What stays of an erased case is its reference (a tombstone, `KE-2026-0001 · erased 2028-03-02`) and its
anonymous report facts. The link to those facts (`cases.fact_key`) is cut first, so nothing that happens to
the case's rows afterwards can rewrite a past year's figures. Each case is erased in one transaction: a
worker killed half-way leaves the case whole, and the next run erases it. Several workers: on PostgreSQL a
case is locked with FOR UPDATE SKIP LOCKED; on SQLite every write transaction begins IMMEDIATE.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from commands.cases.erasure import due_day
from commands.context import Services
from commands.reply import Reply
from storage import audit, outbox
from storage.contacts import AdviceContact
from storage.db import unit_of_work
from storage.enums import CaseState
from storage.models import (
    AgendaEdit,
    AgendaItem,
    Case,
    CaseCheck,
    CaseEvent,
    Disclosure,
    Engagement,
    FollowUp,
    MentorSession,
    MinuteEntry,
    Offer,
    OutboxMessage,
    Publication,
    Subject,
    TeamsFile,
)
from storage.profile.tables import CaseStep
from storage.pseudonym import format_pseudonym

log = logging.getLogger(__name__)
WORKER = "koordinator"
BATCH = 50


def day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz)


def is_due(svc: Services, case: Case, now: datetime, tz: ZoneInfo | None = None) -> bool:
    tz = tz or svc.calendar().tz
    day = due_day(svc, case, tz)
    return day is not None and case.hold_at is None and day_start(day, tz) <= now


@dataclass
class Erased:
    counts: dict[str, int] = field(default_factory=dict)


def _mentions(payload: str, needles: list[str]) -> bool:
    if any(n in payload for n in needles):
        return True
    try:
        reply = Reply.from_json(payload)
    except (ValueError, KeyError, TypeError):
        return False
    return any(n.encode() in a.data for a in reply.attachments for n in needles)


def outbox_rows(session: Session, svc: Services, since: datetime, needles: list[str]) -> list[int]:
    """Messages that name the case or its subjects (queued or sent: a sent one can still be updated)."""
    ids = []
    for row in session.exec(select(OutboxMessage).where(col(OutboxMessage.created_at) >= since)):
        if _mentions(outbox.payload(session, svc.vault, row), needles):
            ids.append(row.id)
    return [i for i in ids if i is not None]


def drop_messages(session: Session, message_ids: list[int]) -> tuple[int, int]:
    """Delete these outbox rows and the Teams file offers made from them; (files, messages) deleted."""
    if not message_ids:
        return 0, 0
    session.exec(update(OutboxMessage).where(col(OutboxMessage.replaces_id).in_(message_ids))  # type: ignore[call-overload]
                 .values(replaces_id=None))
    session.exec(update(FollowUp).where(col(FollowUp.last_message_id).in_(message_ids))  # type: ignore[call-overload]
                 .values(last_message_id=None))
    files = 0
    for mid in message_ids:
        files += session.exec(delete(TeamsFile).where(col(TeamsFile.key).like(f"outbox:{mid}:%"))).rowcount  # type: ignore[call-overload]
    messages = session.exec(delete(OutboxMessage).where(col(OutboxMessage.id).in_(message_ids))).rowcount  # type: ignore[call-overload]
    return files, messages


def erase_case(session: Session, svc: Services, case: Case, now: datetime, *, why: str = "retention",
               actor: str = WORKER) -> dict[str, int]:
    """Erase one case in the caller's transaction; returns what was removed, as counts."""
    assert case.id is not None
    case.fact_key = None  # first: cut the only link to the report facts
    session.add(case)
    session.flush()
    cid = case.id
    subjects = list(session.exec(select(Subject).where(Subject.case_id == cid)))
    # A person also in a case that is not erased keeps that link; messages about the other case stay.
    shared = set(session.exec(select(Subject.pseudonym).where(
        col(Subject.pseudonym).in_([s.pseudonym for s in subjects]), Subject.case_id != cid)))
    needles = [case.ref] + [p for s in subjects if s.pseudonym not in shared
                            for p in (s.pseudonym, format_pseudonym(s.pseudonym))]
    engagement_ids = list(session.exec(select(Engagement.id).where(Engagement.case_id == cid)))
    followup_ids = list(session.exec(select(FollowUp.id).where(FollowUp.case_id == cid)))
    message_ids = outbox_rows(session, svc, case.received_at, needles)

    def gone(stmt) -> int:  # noqa: ANN001
        return session.exec(stmt).rowcount  # type: ignore[call-overload,no-any-return]

    counts: dict[str, int] = {}
    counts["files"], counts["messages"] = drop_messages(session, message_ids)
    if followup_ids:
        session.exec(update(MinuteEntry).where(col(MinuteEntry.followup_id).in_(followup_ids))  # type: ignore[call-overload]
                     .values(followup_id=None))
    counts["minutes"] = gone(delete(MinuteEntry).where(MinuteEntry.case_id == cid))
    counts["agenda"] = (gone(delete(AgendaItem).where(AgendaItem.case_id == cid))
                        + gone(delete(AgendaEdit).where(AgendaEdit.case_id == cid)))
    # A frozen agenda or minutes that listed the case cannot be redacted without changing what was sent:
    # that version goes with the case (the meeting stays; docs/privacy.md).
    listing = [p.id for p in session.exec(select(Publication).where(col(Publication.refs).contains(case.ref)))
               if case.ref in p.refs.split(",")]
    counts["publications"] = gone(delete(Publication).where(col(Publication.id).in_(listing))) if listing else 0
    counts["steps"] = gone(delete(CaseStep).where(CaseStep.case_id == cid))  # a step's own title is free text
    counts["followups"] = gone(delete(FollowUp).where(FollowUp.case_id == cid))
    counts["mentor_logs"] = (gone(delete(MentorSession).where(col(MentorSession.engagement_id).in_(engagement_ids)))
                             if engagement_ids else 0)
    counts["engagements"] = gone(delete(Engagement).where(Engagement.case_id == cid))
    counts["offers"] = gone(delete(Offer).where(Offer.case_id == cid))
    counts["disclosures"] = gone(delete(Disclosure).where(Disclosure.case_id == cid))  # a note is free text
    counts["subjects"] = gone(delete(Subject).where(Subject.case_id == cid))
    counts["checks"] = gone(delete(CaseCheck).where(CaseCheck.case_id == cid))
    counts["notes"] = gone(delete(CaseEvent).where(CaseEvent.case_id == cid, col(CaseEvent.text_ct).is_not(None)))
    counts["events"] = gone(delete(CaseEvent).where(CaseEvent.case_id == cid))
    counts["summary"] = int(case.summary_ct is not None)
    tombstone(case, now)
    session.add(case)
    session.flush()
    counts["audit_redacted"] = audit.redact(session, case.ref, why)
    audit.record(session, clock=svc.clock, vault=svc.vault, actor=actor, action=audit.ERASE, case_ref=case.ref,
                 detail={"why": why, **counts})
    return counts


def tombstone(case: Case, now: datetime) -> None:
    """Only the reference and the moment of erasure stay: the categories live on, unlinked, in the facts."""
    case.summary_ct = case.summary_kid = None
    case.hold_at = case.hold_by = None
    case.hold_reason_ct = case.hold_reason_kid = None
    case.severity = case.track = case.source = case.district = case.basis = case.indicators = ""
    case.level = case.responsible_org = case.close_reason = None
    case.owner_id = case.reporter_id = None
    case.deadline_met = None
    case.release_at = None
    case.received_at = case.deadline_at = case.created_at = case.updated_at = now
    case.referred_at = case.last_event_at = case.reviewed_at = None  # its timeline is gone
    case.closed_at = now
    case.state = CaseState.closed.value
    case.erased_at = now


def _candidates(session: Session, svc: Services, now: datetime, limit: int, after: int) -> list[int]:
    shortest = min(svc.settings.retention_days, svc.settings.retention_days_unfounded)
    stmt = (select(Case).where(Case.state == CaseState.closed.value, col(Case.erased_at).is_(None),
                               col(Case.hold_at).is_(None), col(Case.closed_at).is_not(None),
                               col(Case.closed_at) <= now - timedelta(days=shortest - 1), col(Case.id) > after)
            .order_by(col(Case.id)))
    out: list[int] = []
    last = after
    tz = svc.calendar(session).tz
    for case in session.exec(stmt):
        last = case.id or last
        if is_due(svc, case, now, tz):
            out.append(last)
            if len(out) >= limit:
                break
    return out


def _lock(session: Session, case_id: int) -> Case | None:
    stmt = select(Case).where(Case.id == case_id, col(Case.erased_at).is_(None))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return session.exec(stmt).first()


def erase_due(svc: Services, now: datetime, batch: int = BATCH) -> list[str]:
    """Erase every case due at `now`, in batches, each case in a transaction of its own. Idempotent."""
    erased: list[str] = []
    after = 0
    tz = svc.calendar().tz
    while True:
        with unit_of_work(svc.engine) as session:
            ids = _candidates(session, svc, now, batch, after)
        for case_id in ids:
            with unit_of_work(svc.engine) as session:
                case = _lock(session, case_id)
                if case is None or not is_due(svc, case, now, tz):  # another worker has it, or it changed
                    continue
                erase_case(session, svc, case, now)
                erased.append(case.ref)
        if len(ids) < batch:
            break
        after = ids[-1]
    if erased:
        compact(svc)
        log.info("retention at %s: %d cases erased", now.isoformat(), len(erased))
    return erased


def erase_advice_due(svc: Services, now: datetime) -> int:
    """Advice contacts (commands/cases/advice.py) are kept like unfounded cases: erased
    RETENTION_DAYS_UNFOUNDED days after their receipt. Their anonymous report row stays, unlinked."""
    cutoff = now - timedelta(days=svc.settings.retention_days_unfounded)
    with unit_of_work(svc.engine) as session:
        result = session.exec(delete(AdviceContact).where(col(AdviceContact.received_at) <= cutoff))  # type: ignore[call-overload]
        return int(result.rowcount or 0)


def compact(svc: Services) -> None:
    """SQLite keeps old page versions in its write-ahead log until a checkpoint: fold them into the file,
    whose freed pages `secure_delete` has zeroed (storage/db.py). PostgreSQL: autovacuum reclaims dead rows."""
    if svc.engine.dialect.name != "sqlite":
        return
    try:
        raw = svc.engine.raw_connection()  # outside any transaction (autocommit)
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        finally:
            raw.close()
    except Exception as exc:  # noqa: BLE001 — a busy database checkpoints at the next run
        log.warning("retention checkpoint skipped: %s", type(exc).__name__)
