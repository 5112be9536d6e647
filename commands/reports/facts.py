"""One function derives a case's report facts from what is stored about it. Every change to a case says so
(`touch`, from `add_event`: any use case that writes a timeline event touches its case); the unit of work then
derives the touched cases' facts again just before it commits (storage.db.UnitOfWork), in the same
transaction, and writes only what differs from the stored rows. See docs/reports.md.

The migrations that filled the fact store carry frozen copies of this derivation (storage/migrations/frozen/).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Integer,
    String,
    bindparam,
    delete,
    insert,
    inspect,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from storage.db import UnitOfWork, then
from storage.enums import VISITATION_HOURS, Severity
from storage.fact_tables import ReportCase, ReportEngagement, ReportOffer, ReportStep, ReportSubject
from storage.models import Case, CaseEvent, Engagement, Offer, Subject
from storage.profile.tables import CaseStep
from storage.types import UTCDateTime

# The loader's columns, read as SQL (Core), not as ORM objects.
case_cols = Case.__table__.c  # type: ignore[attr-defined]
subject_cols = Subject.__table__.c  # type: ignore[attr-defined]
offer_cols = Offer.__table__.c  # type: ignore[attr-defined]
engagement_cols = Engagement.__table__.c  # type: ignore[attr-defined]
event_cols = CaseEvent.__table__.c  # type: ignore[attr-defined]
step_cols = CaseStep.__table__.c  # type: ignore[attr-defined]


LOADED_EVENTS = ("received", "referred", "outcome", "severity")  # the timeline events `derive` reads


@dataclass
class Inputs:
    case: Any
    subjects: list[Any] = field(default_factory=list)
    offers: list[Any] = field(default_factory=list)
    engagements: list[Any] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    steps: list[Any] | None = None  # None: not read, and the stored step facts are left alone
    stored: dict[str, Any] | None = None  # the case's stored fact row; None: its facts were never written


@dataclass
class Facts:
    case: dict[str, Any]
    stored: dict[str, Any] | None  # the stored case row (Inputs.stored)
    subjects: list[dict[str, Any]]
    offers: list[dict[str, Any]]
    engagements: list[dict[str, Any]]
    steps: list[dict[str, Any]] | None = None  # None: leave the step facts alone


def _part(name: str, pos: Any, case_id: Any, num: Any = None, s1: Any = None, s2: Any = None, s3: Any = None,
          s4: Any = None, t1: Any = None, t2: Any = None):  # noqa: ANN202
    """One branch of the loader's UNION ALL: every table's rows in the same ten columns."""
    def typed(value: Any, type_: Any) -> Any:
        return type_coerce(null(), type_) if value is None else value
    return select(literal_column(f"'{name}'").label("part"), typed(pos, Integer()).label("pos"),
                  typed(case_id, Integer()).label("case_id"), typed(num, Integer()).label("num"),
                  *(typed(v, String()).label(f"s{i}") for i, v in enumerate((s1, s2, s3, s4), start=1)),
                  typed(t1, UTCDateTime()).label("t1"), typed(t2, UTCDateTime()).label("t2"))


def load(conn: Connection | Session, case_ids: Iterable[int]) -> list[Inputs]:
    """Everything `derive` reads, and the stored case fact row, for these cases: two queries (the case rows,
    then their subjects, offers, engagements, events and steps in one UNION ALL)."""
    ids = sorted(set(case_ids))
    if not ids:
        return []
    rc = ReportCase.__table__  # type: ignore[attr-defined]
    cases = conn.execute(select(case_cols.id, case_cols.fact_key, case_cols.received_at, case_cols.severity,
                                case_cols.track, case_cols.source, case_cols.district, case_cols.basis,
                                case_cols.level, case_cols.indicators, case_cols.closed_at, case_cols.close_reason,
                                *(col.label(f"stored_{col.name}") for col in rc.c))
                         .outerjoin(rc, rc.c.fact_key == case_cols.fact_key)
                         .where(case_cols.id.in_(ids), case_cols.fact_key.is_not(None))).mappings().all()
    found = {}
    for row in cases:
        stored = {col.name: row[f"stored_{col.name}"] for col in rc.c}
        found[row["id"]] = Inputs(SimpleNamespace(**{k: v for k, v in row.items() if not k.startswith("stored_")}),
                                  steps=[], stored=stored if stored["fact_key"] is not None else None)
    if not found:
        return []
    keys = list(found)
    parts = union_all(
        _part("subject", subject_cols.id, subject_cols.case_id, None, subject_cols.age_band, subject_cols.track,
              subject_cols.relation, subject_cols.responsible_org)
        .where(subject_cols.case_id.in_(keys)),
        _part("offer", offer_cols.id, offer_cols.case_id, offer_cols.subject_id, offer_cols.kind, offer_cols.state,
              t1=offer_cols.offered_at, t2=offer_cols.responded_at)
        .where(offer_cols.case_id.in_(keys)),
        _part("engagement", engagement_cols.id, engagement_cols.case_id, engagement_cols.subject_id,
              engagement_cols.kind, engagement_cols.result, t1=engagement_cols.started_at,
              t2=engagement_cols.ended_at)
        .where(engagement_cols.case_id.in_(keys)),
        _part("event", event_cols.id, event_cols.case_id, None, event_cols.kind, event_cols.data, t1=event_cols.at)
        .where(event_cols.case_id.in_(keys), event_cols.kind.in_(LOADED_EVENTS)),
        _part("step", step_cols.n, step_cols.case_id, step_cols.id, step_cols.state, t1=step_cols.due_at,
              t2=step_cols.done_at)
        .where(step_cols.case_id.in_(keys), step_cols.profile_version.is_not(None)),
    ).order_by("part", "pos")
    for r in conn.execute(parts):
        into = found[r.case_id]
        if r.part == "subject":
            into.subjects.append(SimpleNamespace(id=r.pos, age_band=r.s1, track=r.s2, relation=r.s3,
                                                 responsible_org=r.s4))
        elif r.part == "offer":
            into.offers.append(SimpleNamespace(id=r.pos, subject_id=r.num, kind=r.s1, state=r.s2, offered_at=r.t1,
                                               responded_at=r.t2))
        elif r.part == "engagement":
            into.engagements.append(SimpleNamespace(id=r.pos, subject_id=r.num, kind=r.s1, result=r.s2,
                                                    started_at=r.t1, ended_at=r.t2))
        elif r.part == "event":
            into.events.append(SimpleNamespace(id=r.pos, kind=r.s1, data=r.s2, at=r.t1))
        else:
            into.steps.append(SimpleNamespace(n=r.pos, state=r.s1, due_at=r.t1, done_at=r.t2))  # type: ignore[union-attr]
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
    return Facts(case, src.stored, subjects, offers, engagements, steps)


FactTable = type[ReportSubject] | type[ReportOffer] | type[ReportEngagement] | type[ReportStep]
CHILDREN: tuple[tuple[str, FactTable], ...] = (("subjects", ReportSubject), ("offers", ReportOffer),
                                               ("engagements", ReportEngagement), ("steps", ReportStep))


def _stored_children(conn: Connection | Session, keys: list[str], tables: list[FactTable]) -> dict[tuple, list]:
    """The stored rows of these cases, per (table, fact_key), in the order they were written."""
    found: dict[tuple, list] = {}
    for table in tables:
        t = table.__table__  # type: ignore[attr-defined]
        for row in conn.execute(select(t).where(t.c.fact_key.in_(keys)).order_by(t.c.id)).mappings():
            found.setdefault((table, row["fact_key"]), []).append(dict(row))
    return found


def _same(stored: dict[str, Any], derived: dict[str, Any]) -> bool:
    return all(stored.get(name) == value for name, value in derived.items())


def write(conn: Connection | Session, all_facts: list[Facts]) -> None:
    """Make the stored fact rows of these cases what was derived, writing only the difference: a row that
    is new is inserted, one that is gone deleted, one that changed updated (a case's rows are matched in the
    order they were written: its subjects' places, its offers, engagements and steps in the order made)."""
    if not all_facts:
        return
    keys = [f.case["fact_key"] for f in all_facts]
    stored_cases = {f.case["fact_key"]: f.stored for f in all_facts if f.stored is not None}
    inserts: dict[Any, list[dict[str, Any]]] = {}
    updates: dict[Any, list[dict[str, Any]]] = {}
    deletes: dict[Any, list[Any]] = {}
    for f in all_facts:
        old = stored_cases.get(f.case["fact_key"])
        if old is None:
            inserts.setdefault(ReportCase, []).append(f.case)
        elif not _same(old, f.case):
            updates.setdefault(ReportCase, []).append(f.case)
    # A case with no stored row has no stored rows in the other tables either (its facts are written whole).
    known = [k for k in keys if k in stored_cases]
    tables = [table for name, table in CHILDREN if any(getattr(f, name) is not None for f in all_facts)]
    stored = _stored_children(conn, known, tables) if known else {}
    for f in all_facts:
        for name, table in CHILDREN:
            derived = getattr(f, name)
            if derived is None:  # not derived (a migration older than the table): left alone
                continue
            old_rows = stored.get((table, f.case["fact_key"]), [])
            for old, new in zip(old_rows, derived, strict=False):
                if not _same(old, new):
                    updates.setdefault(table, []).append({**new, "id": old["id"]})
            inserts.setdefault(table, []).extend(derived[len(old_rows):])
            deletes.setdefault(table, []).extend(old["id"] for old in old_rows[len(derived):])
    for table, ids in deletes.items():
        if ids:
            t = table.__table__  # type: ignore[attr-defined]
            conn.execute(delete(t).where(t.c.id.in_(ids)))
    for table, rows in updates.items():
        t = table.__table__  # type: ignore[attr-defined]
        key = "fact_key" if table is ReportCase else "id"
        for shape in _by_shape(rows):
            names = [name for name in shape[0] if name != key]
            conn.execute(update(t).where(t.c[key] == bindparam("v_key"))
                         .values({name: bindparam(f"v_{name}") for name in names}),
                         [{"v_key": row[key], **{f"v_{name}": row[name] for name in names}} for row in shape])
    for table, rows in inserts.items():
        if rows:
            conn.execute(insert(table), rows)


def _by_shape(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Rows with the same columns go in one executemany."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(sorted(row)), []).append(row)
    return list(shapes.values())


def refresh(conn: Connection | Session, case_ids: Iterable[int], tz: ZoneInfo) -> int:
    """Derive these cases' facts again and store the difference."""
    inputs = load(conn, case_ids)
    write(conn, [derive(i, tz) for i in inputs])
    return len(inputs)


def touch(session: Session, case_id: int | None, tz: ZoneInfo) -> None:
    """This case changed: its facts are derived again when the unit of work commits (storage.db.UnitOfWork)."""
    if case_id is not None:
        then(session, "report facts", lambda s, ids: _refresh_touched(s, ids, tz), case_id)


def _refresh_touched(session: Session, case_ids: list[int], tz: ZoneInfo) -> None:
    session.flush()
    known = _created_here(session, case_ids)
    inputs = known + load(session, [i for i in case_ids if i not in {k.case.id for k in known}])
    write(session, [derive(i, tz) for i in inputs])


def _created_here(session: Session, case_ids: list[int]) -> list[Inputs]:
    """The inputs of cases this unit of work created, from the objects it wrote (UnitOfWork.written), without
    reading them back: a case that did not exist before has no rows but those written since, and no stored
    facts. Other cases, or any case once rows were changed by a bulk statement, are loaded."""
    written = session.written() if isinstance(session, UnitOfWork) else None
    if written is None:
        return []
    live = [obj for obj in written if not inspect(obj).was_deleted]
    wanted = set(case_ids)
    found = {obj.id: Inputs(obj, steps=[]) for obj in live
             if isinstance(obj, Case) and obj.id in wanted and obj.fact_key is not None
             and session.created(obj)}
    if not found:
        return []
    for obj in sorted(live, key=lambda o: (getattr(o, "id", None) or 0)):
        into = found.get(getattr(obj, "case_id", None))  # type: ignore[arg-type]
        if into is None:
            continue
        if isinstance(obj, Subject):
            into.subjects.append(obj)
        elif isinstance(obj, Offer):
            into.offers.append(obj)
        elif isinstance(obj, Engagement):
            into.engagements.append(obj)
        elif isinstance(obj, CaseEvent) and obj.kind in LOADED_EVENTS:
            into.events.append(obj)
        elif isinstance(obj, CaseStep) and obj.profile_version is not None:
            into.steps.append(obj)  # type: ignore[union-attr]
    for into in found.values():
        into.steps.sort(key=lambda st: st.n)  # type: ignore[union-attr]
    return list(found.values())
