"""One function derives a case's report facts from what is stored about it; it runs in the transaction of
every change (any use case that writes a timeline event touches its case), and the migration that created
the fact store ran it over every case stored then. See docs/reports.md.

The loader selects named columns only (never whole ORM rows), so the same code serves that migration.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, event, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from storage.enums import VISITATION_HOURS, Severity
from storage.facts import ReportCase, ReportEngagement, ReportOffer, ReportStep, ReportSubject
from storage.models import Case, CaseEvent, Engagement, Offer, Subject
from storage.profile.tables import CaseStep

_TOUCHED = "report_facts.touched"
_TZ = "report_facts.tz"
C, S, OF, E, V, ST = (Case.__table__.c, Subject.__table__.c, Offer.__table__.c,  # type: ignore[attr-defined]
                      Engagement.__table__.c, CaseEvent.__table__.c, CaseStep.__table__.c)  # type: ignore[attr-defined]


@dataclass
class Inputs:
    case: Any
    subjects: list[Any] = field(default_factory=list)
    offers: list[Any] = field(default_factory=list)
    engagements: list[Any] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    steps: list[Any] | None = None  # None: not read (a migration older than the steps' table)


@dataclass
class Facts:
    case: dict[str, Any]
    subjects: list[dict[str, Any]]
    offers: list[dict[str, Any]]
    engagements: list[dict[str, Any]]
    steps: list[dict[str, Any]] | None = None  # None: leave the step facts alone


def load(conn: Connection | Session, case_ids: Iterable[int], steps: bool = True) -> list[Inputs]:
    """Everything `derive` reads, for these cases, in six queries."""
    ids = sorted(set(case_ids))
    if not ids:
        return []
    cases = conn.execute(select(C.id, C.fact_key, C.received_at, C.severity, C.track, C.source, C.district,
                                C.basis, C.level, C.indicators, C.closed_at, C.close_reason)
                         .where(C.id.in_(ids), C.fact_key.is_not(None))).all()
    found = {row.id: Inputs(row) for row in cases}
    if not found:
        return []
    keys = list(found)
    for row in conn.execute(select(S.id, S.case_id, S.age_band, S.track, S.relation, S.responsible_org)
                            .where(S.case_id.in_(keys))
                            .order_by(S.id)):
        found[row.case_id].subjects.append(row)
    for row in conn.execute(select(OF.id, OF.case_id, OF.subject_id, OF.kind, OF.state, OF.offered_at,
                                   OF.responded_at).where(OF.case_id.in_(keys)).order_by(OF.id)):
        found[row.case_id].offers.append(row)
    for row in conn.execute(select(E.id, E.case_id, E.subject_id, E.kind, E.started_at, E.ended_at, E.result)
                            .where(E.case_id.in_(keys)).order_by(E.id)):
        found[row.case_id].engagements.append(row)
    for row in conn.execute(select(V.id, V.case_id, V.at, V.kind, V.data)
                            .where(V.case_id.in_(keys), V.kind.in_(("received", "referred", "outcome", "severity")))
                            .order_by(V.id)):
        found[row.case_id].events.append(row)
    if steps:
        for inputs in found.values():
            inputs.steps = []
        for row in conn.execute(select(ST.id, ST.case_id, ST.n, ST.due_at, ST.state, ST.done_at)
                                .where(ST.case_id.in_(keys), ST.profile_version.is_not(None)).order_by(ST.n)):
            found[row.case_id].steps.append(row)  # type: ignore[union-attr]
    return [found[i] for i in keys]


def _day(instant: datetime | None, tz: ZoneInfo):  # noqa: ANN202
    return None if instant is None else instant.astimezone(tz).date()


def _aware(instant: datetime | None) -> datetime | None:
    """SQLite hands back naive UTC through a bare Core select in a migration."""
    if instant is None or instant.tzinfo is not None:
        return instant
    return instant.replace(tzinfo=ZoneInfo("UTC"))


def derive(src: Inputs, tz: ZoneInfo) -> Facts:
    c = src.case
    received = _aware(c.received_at)
    assert received is not None
    intake = next((json.loads(e.data) for e in src.events if e.kind == "received"), {})
    hours = intake.get("hours") or VISITATION_HOURS[Severity(c.severity)]  # the unit profile's, at intake
    deadline = received + timedelta(hours=hours)
    if isinstance(intake.get("deadline"), str):  # a window that started later (a promoted advice contact)
        deadline = _aware(datetime.fromisoformat(intake["deadline"])) or deadline
    referral = next((e for e in src.events if e.kind == "referred"), None)
    referred_at = _aware(referral.at) if referral is not None else None
    for e in src.events:  # a severity change before the referral brought the deadline forward
        at = _aware(e.at)
        if e.kind == "severity" and (referred_at is None or (at is not None and at <= referred_at)):
            moved = json.loads(e.data).get("deadline")
            if moved:
                deadline = min(deadline, datetime.fromisoformat(moved))
    referral_data = json.loads(referral.data) if referral is not None else {}
    closed = _aware(c.closed_at)
    case = {
        "fact_key": c.fact_key, "received_on": _day(received, tz), "severity": c.severity, "track": c.track,
        "source": c.source, "district": c.district, "basis": c.basis, "level": c.level,
        "indicators": c.indicators or "", "deadline_at": deadline, "referred_at": referred_at,
        "deadline_met": None if referred_at is None else referred_at <= deadline,
        "hours_late": None if referred_at is None else round((referred_at - deadline).total_seconds() / 3600, 2),
        "referral_org": referral_data.get("to"), "closed_on": _day(closed, tz), "close_reason": c.close_reason,
        "days_open": None if closed is None else (closed.astimezone(tz).date() - received.astimezone(tz).date()).days,
    }
    place = {s.id: n for n, s in enumerate(src.subjects, start=1)}
    subjects = [{"fact_key": c.fact_key, "n": place[s.id], "age_band": s.age_band, "track": s.track or c.track,
                 "relation": s.relation, "org": s.responsible_org} for s in src.subjects]
    offers = [{"fact_key": c.fact_key, "subject_n": place.get(o.subject_id, 0), "kind": o.kind,
               "offered_at": _aware(o.offered_at), "offered_on": _day(_aware(o.offered_at), tz),
               "response": o.state, "responded_at": _aware(o.responded_at),
               "responded_on": _day(_aware(o.responded_at), tz)} for o in src.offers]
    answers: dict[tuple[int, str], bool] = {}
    for e in src.events:
        if e.kind == "outcome":
            data = json.loads(e.data)
            if data.get("engagement") is not None and isinstance(data.get("outcome"), bool):
                answers[(int(data["engagement"]), str(data.get("kind")))] = data["outcome"]
    engagements = [{"fact_key": c.fact_key, "subject_n": place.get(g.subject_id, 0), "kind": g.kind,
                    "started_on": _day(_aware(g.started_at), tz), "ended_at": _aware(g.ended_at),
                    "ended_on": _day(_aware(g.ended_at), tz),
                    "not_at_risk_6m": answers.get((g.id, "assess_6m")),
                    "in_education_12m": answers.get((g.id, "outcome_12m")), "result": g.result}
                   for g in src.engagements]
    steps = None if src.steps is None else [
        {"fact_key": c.fact_key, "n": st.n, "due_at": _aware(st.due_at), "due_on": _day(_aware(st.due_at), tz),
         "state": st.state, "done_at": _aware(st.done_at) if st.state != "open" else None} for st in src.steps]
    return Facts(case, subjects, offers, engagements, steps)


def write(conn: Connection | Session, all_facts: list[Facts]) -> None:
    """Replace the fact rows of these cases (a case's facts are always derived whole)."""
    keys = [f.case["fact_key"] for f in all_facts]
    if not keys:
        return
    for table in (ReportSubject, ReportOffer, ReportEngagement, ReportCase):
        conn.execute(delete(table).where(table.fact_key.in_(keys)))  # type: ignore[attr-defined]
    stepped = [f for f in all_facts if f.steps is not None]
    if stepped:
        conn.execute(delete(ReportStep).where(ReportStep.fact_key.in_([f.case["fact_key"] for f in stepped])))  # type: ignore[attr-defined]
        if rows := [r for f in stepped for r in f.steps or []]:
            conn.execute(insert(ReportStep), rows)
    conn.execute(insert(ReportCase), [f.case for f in all_facts])
    for table, rows in ((ReportSubject, [r for f in all_facts for r in f.subjects]),
                        (ReportOffer, [r for f in all_facts for r in f.offers]),
                        (ReportEngagement, [r for f in all_facts for r in f.engagements])):
        if rows:
            conn.execute(insert(table), rows)


def refresh(conn: Connection | Session, case_ids: Iterable[int], tz: ZoneInfo, steps: bool = True) -> int:
    inputs = load(conn, case_ids, steps)
    write(conn, [derive(i, tz) for i in inputs])
    return len(inputs)


def touch(session: Session, case_id: int | None, tz: ZoneInfo) -> None:
    """This case changed in this transaction: its facts are derived again just before the commit."""
    if case_id is not None:
        session.info.setdefault(_TOUCHED, set()).add(case_id)
        session.info[_TZ] = tz


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    touched = session.info.pop(_TOUCHED, None)
    if touched:
        session.flush()
        refresh(session, touched, session.info.get(_TZ) or ZoneInfo("Europe/Copenhagen"))


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_TOUCHED, None)
