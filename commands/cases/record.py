"""A case's record, shared by every case use case: its timeline events, its state changes, its subjects."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from commands.cases import notices
from commands.context import Ctx, dumps
from commands.errors import UsageError
from commands.parsing import pseudonym as parse_pseudonym
from commands.reports import facts
from storage import sealed
from storage.enums import REVIEW_EVENTS, CaseState
from storage.models import Case, CaseEvent, Subject
from storage.pseudonym import format_pseudonym


def add_event(ctx: Ctx, case: Case, kind: str, data: dict[str, Any] | None = None,
              text: str | None = None) -> CaseEvent:
    event = CaseEvent(case_id=case.id, at=ctx.now(), actor_id=ctx.actor.id if ctx.actor else None,  # type: ignore[arg-type]
                      kind=kind, data=dumps(data or {}))
    if text:
        event.text_ct, event.text_kid = ctx.encrypt(text, sealed.EVENT_TEXT.label)
    stamp(case, event)
    case.updated_at = ctx.now()
    ctx.session.add(event)
    ctx.session.add(case)
    ctx.session.flush()
    facts.touch(ctx.session, case.id, ctx.tz)
    return event


def stamp(case: Case, event: CaseEvent) -> None:
    """The case row keeps its timeline's last entry and last status review (the agenda reads them there, not
    from the events): every event written is stamped on its case, in the same UPDATE as the case's own."""
    if case.last_event_at is None or event.at > case.last_event_at:
        case.last_event_at = event.at
    if event.kind in REVIEW_EVENTS and (case.reviewed_at is None or event.at > case.reviewed_at):
        case.reviewed_at = event.at


def transition(ctx: Ctx, case: Case, to: CaseState, allowed_from: set[CaseState],
               data: dict[str, Any] | None = None) -> None:
    current = CaseState(case.state)
    if current not in allowed_from:
        raise UsageError("bad_state", ref=case.ref, state=ctx.label("state", current.value),
                         to=ctx.label("state", to.value),
                         allowed=", ".join(ctx.label("state", s.value) for s in CaseState if s in allowed_from))
    case.state = to.value
    add_event(ctx, case, "state", {**(data or {}), "from": current.value, "to": to.value})
    notices.moved(ctx, case)  # its channel notice follows, at commit


def deadline_for(ctx: Ctx, case: Case) -> timedelta:
    """The visitation window of the unit's profile for the case's severity."""
    return timedelta(hours=ctx.profile.visitation(case.severity))


def subject_by_pseudonym(ctx: Ctx, case: Case, raw: str | None) -> Subject:
    value = parse_pseudonym(raw)
    subject = ctx.session.exec(
        select(Subject).where(Subject.case_id == case.id, Subject.pseudonym == value)
    ).first()
    if subject is None:
        raise UsageError("unknown_subject", ref=case.ref, subject=format_pseudonym(value))
    return subject


def subjects_of(ctx: Ctx, case: Case) -> list[Subject]:
    return list(ctx.session.exec(select(Subject).where(Subject.case_id == case.id).order_by(col(Subject.id))))
