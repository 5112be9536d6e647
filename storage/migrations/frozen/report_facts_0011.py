"""The report facts' derivation as it stood at revision 0011, frozen for migrations 0006 and 0011 to replay.

A migration must do tomorrow what it did the day it was written, so it must not run today's code: this is a
copy of `commands/reports/facts.py` (load → derive → write) at that revision, on plain table definitions of
that schema (never the ORM models, which move on). Never edit it; a later migration that back-fills facts
with a newer derivation carries its own frozen copy.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.types import UTCDateTime

VISITATION_HOURS = {"critical": 24, "high": 48, "normal": 72}

CASES = sa.table("cases", *(sa.column(n) for n in (
    "id", "fact_key", "severity", "track", "source", "district", "basis", "level", "indicators", "close_reason")),
    sa.column("received_at", UTCDateTime()), sa.column("closed_at", UTCDateTime()))
SUBJECT = sa.table("subject", sa.column("id"), sa.column("case_id"), sa.column("age_band"))
OFFER = sa.table("offer", *(sa.column(n) for n in ("id", "case_id", "subject_id", "kind", "state")),
                 sa.column("offered_at", UTCDateTime()), sa.column("responded_at", UTCDateTime()))
ENGAGEMENT = sa.table("engagement", *(sa.column(n) for n in ("id", "case_id", "subject_id", "kind")),
                      sa.column("started_at", UTCDateTime()), sa.column("ended_at", UTCDateTime()))
EVENT = sa.table("caseevent", *(sa.column(n) for n in ("id", "case_id", "kind", "data")),
                 sa.column("at", UTCDateTime()))
STEP = sa.table("case_step", *(sa.column(n) for n in ("id", "case_id", "n", "state", "profile_version")),
                sa.column("due_at", UTCDateTime()), sa.column("done_at", UTCDateTime()))
REPORT_CASE = sa.table("report_case", *(sa.column(n) for n in (
    "fact_key", "severity", "track", "source", "district", "basis", "level", "indicators",
    "hours_late", "referral_org", "close_reason", "days_open")),
    sa.column("received_on", sa.Date()), sa.column("closed_on", sa.Date()), sa.column("deadline_met", sa.Boolean()),
    sa.column("deadline_at", UTCDateTime()), sa.column("referred_at", UTCDateTime()))
REPORT_SUBJECT = sa.table("report_subject", sa.column("fact_key"), sa.column("n"), sa.column("age_band"))
REPORT_OFFER = sa.table("report_offer", *(sa.column(n) for n in ("fact_key", "subject_n", "kind", "response")),
    sa.column("offered_on", sa.Date()), sa.column("responded_on", sa.Date()),
    sa.column("offered_at", UTCDateTime()), sa.column("responded_at", UTCDateTime()))
REPORT_ENGAGEMENT = sa.table("report_engagement", *(sa.column(n) for n in ("fact_key", "subject_n", "kind")),
    sa.column("started_on", sa.Date()), sa.column("ended_on", sa.Date()), sa.column("not_at_risk_6m", sa.Boolean()),
    sa.column("in_education_12m", sa.Boolean()), sa.column("ended_at", UTCDateTime()))
REPORT_STEP = sa.table("report_step", *(sa.column(n) for n in ("fact_key", "n", "state")),
                       sa.column("due_on", sa.Date()), sa.column("due_at", UTCDateTime()),
                       sa.column("done_at", UTCDateTime()))


@dataclass
class Inputs:
    case: Any
    subjects: list[Any] = field(default_factory=list)
    offers: list[Any] = field(default_factory=list)
    engagements: list[Any] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    steps: list[Any] | None = None


def load(conn: Connection, case_ids: Iterable[int], steps: bool) -> list[Inputs]:
    ids = sorted(set(case_ids))
    if not ids:
        return []
    c = CASES.c
    cases = conn.execute(sa.select(c.id, c.fact_key, c.received_at, c.severity, c.track, c.source, c.district,
                                   c.basis, c.level, c.indicators, c.closed_at, c.close_reason)
                         .where(c.id.in_(ids), c.fact_key.is_not(None))).all()
    found = {row.id: Inputs(row) for row in cases}
    keys = list(found)
    if not keys:
        return []
    s, o, g, v = SUBJECT.c, OFFER.c, ENGAGEMENT.c, EVENT.c
    for row in conn.execute(sa.select(s.id, s.case_id, s.age_band).where(s.case_id.in_(keys)).order_by(s.id)):
        found[row.case_id].subjects.append(row)
    for row in conn.execute(sa.select(o.id, o.case_id, o.subject_id, o.kind, o.state, o.offered_at,
                                      o.responded_at).where(o.case_id.in_(keys)).order_by(o.id)):
        found[row.case_id].offers.append(row)
    for row in conn.execute(sa.select(g.id, g.case_id, g.subject_id, g.kind, g.started_at, g.ended_at)
                            .where(g.case_id.in_(keys)).order_by(g.id)):
        found[row.case_id].engagements.append(row)
    for row in conn.execute(sa.select(v.id, v.case_id, v.at, v.kind, v.data)
                            .where(v.case_id.in_(keys), v.kind.in_(("received", "referred", "outcome")))
                            .order_by(v.id)):
        found[row.case_id].events.append(row)
    if steps:
        st = STEP.c
        for inputs in found.values():
            inputs.steps = []
        for row in conn.execute(sa.select(st.id, st.case_id, st.n, st.due_at, st.state, st.done_at)
                                .where(st.case_id.in_(keys), st.profile_version.is_not(None)).order_by(st.n)):
            found[row.case_id].steps.append(row)  # type: ignore[union-attr]
    return [found[i] for i in keys]


def _aware(instant: datetime | None) -> datetime | None:
    if instant is None or instant.tzinfo is not None:
        return instant
    return instant.replace(tzinfo=ZoneInfo("UTC"))


def _day(instant: datetime | None, tz: ZoneInfo):  # noqa: ANN202
    instant = _aware(instant)
    return None if instant is None else instant.astimezone(tz).date()


def derive(src: Inputs, tz: ZoneInfo) -> dict[str, list[dict[str, Any]]]:
    c = src.case
    received = _aware(c.received_at)
    assert received is not None
    intake = next((json.loads(e.data) for e in src.events if e.kind == "received"), {})
    deadline = received + timedelta(hours=intake.get("hours") or VISITATION_HOURS[c.severity])
    referral = next((e for e in src.events if e.kind == "referred"), None)
    referred_at = _aware(referral.at) if referral is not None else None
    closed = _aware(c.closed_at)
    case = {
        "fact_key": c.fact_key, "received_on": _day(received, tz), "severity": c.severity, "track": c.track,
        "source": c.source, "district": c.district, "basis": c.basis, "level": c.level,
        "indicators": c.indicators or "", "deadline_at": deadline, "referred_at": referred_at,
        "deadline_met": None if referred_at is None else referred_at <= deadline,
        "hours_late": None if referred_at is None else round((referred_at - deadline).total_seconds() / 3600, 2),
        "referral_org": (json.loads(referral.data) if referral is not None else {}).get("to"),
        "closed_on": _day(closed, tz), "close_reason": c.close_reason,
        "days_open": None if closed is None else (closed.astimezone(tz).date() - received.astimezone(tz).date()).days,
    }
    place = {s.id: n for n, s in enumerate(src.subjects, start=1)}
    answers: dict[tuple[int, str], bool] = {}
    for e in src.events:
        data = json.loads(e.data) if e.kind == "outcome" else {}
        if data.get("engagement") is not None and isinstance(data.get("outcome"), bool):
            answers[(int(data["engagement"]), str(data.get("kind")))] = data["outcome"]
    rows: dict[str, list[dict[str, Any]]] = {
        "report_case": [case],
        "report_subject": [{"fact_key": c.fact_key, "n": place[s.id], "age_band": s.age_band} for s in src.subjects],
        "report_offer": [{"fact_key": c.fact_key, "subject_n": place.get(o.subject_id, 0), "kind": o.kind,
                          "offered_at": _aware(o.offered_at), "offered_on": _day(o.offered_at, tz),
                          "response": o.state, "responded_at": _aware(o.responded_at),
                          "responded_on": _day(o.responded_at, tz)} for o in src.offers],
        "report_engagement": [{"fact_key": c.fact_key, "subject_n": place.get(g.subject_id, 0), "kind": g.kind,
                               "started_on": _day(g.started_at, tz), "ended_at": _aware(g.ended_at),
                               "ended_on": _day(g.ended_at, tz),
                               "not_at_risk_6m": answers.get((g.id, "assess_6m")),
                               "in_education_12m": answers.get((g.id, "outcome_12m"))} for g in src.engagements],
    }
    if src.steps is not None:
        rows["report_step"] = [{"fact_key": c.fact_key, "n": st.n, "due_at": _aware(st.due_at),
                                "due_on": _day(st.due_at, tz), "state": st.state,
                                "done_at": _aware(st.done_at) if st.state != "open" else None} for st in src.steps]
    return rows


TABLES = {t.name: t for t in (REPORT_CASE, REPORT_SUBJECT, REPORT_OFFER, REPORT_ENGAGEMENT, REPORT_STEP)}


def refresh(conn: Connection, case_ids: Iterable[int], tz: ZoneInfo, steps: bool = True) -> int:
    """Replace these cases' fact rows with freshly derived ones (step facts only with `steps`)."""
    derived = [derive(i, tz) for i in load(conn, case_ids, steps)]
    keys = [d["report_case"][0]["fact_key"] for d in derived]
    if not keys:
        return 0
    names = ["report_subject", "report_offer", "report_engagement", "report_case"] + (["report_step"] if steps else [])
    for name in names:
        conn.execute(sa.delete(TABLES[name]).where(TABLES[name].c.fact_key.in_(keys)))
    for name in ["report_case", "report_subject", "report_offer", "report_engagement", "report_step"]:
        if rows := [r for d in derived for r in d.get(name, [])]:
            conn.execute(sa.insert(TABLES[name]), rows)
    return len(derived)
