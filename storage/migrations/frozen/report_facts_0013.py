"""The report facts' derivation as it stood at revision 0013 (families), frozen for migration 0013 to replay.

The derivation of 0011 (report_facts_0011) with what 0012 and 0013 added: a visitation window that began later
(a promoted advice contact's `deadline` in its `received` event), a severity change before the referral that
brought the deadline forward, each person's own track, relation and authority, and each course's result.
Never edit it (see report_facts_0011)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.migrations.frozen import report_facts_0011 as base
from storage.types import UTCDateTime

PERSON = sa.table("subject", sa.column("id"), sa.column("track"), sa.column("relation"),
                  sa.column("responsible_org"))
RESULT = sa.table("engagement", sa.column("id"), sa.column("result"))
SEVERITY = sa.table("caseevent", sa.column("case_id"), sa.column("kind"), sa.column("data"),
                    sa.column("at", UTCDateTime()))
REPORT_SUBJECT = sa.table("report_subject", *(sa.column(n) for n in ("fact_key", "n", "age_band", "track",
                                                                     "relation", "org")))
REPORT_ENGAGEMENT = sa.table("report_engagement", *(sa.column(n) for n in ("fact_key", "subject_n", "kind")),
                             sa.column("started_on", sa.Date()), sa.column("ended_on", sa.Date()),
                             sa.column("not_at_risk_6m", sa.Boolean()), sa.column("in_education_12m", sa.Boolean()),
                             sa.column("ended_at", UTCDateTime()), sa.column("result"))


def _deadline(src: base.Inputs, changes: list[tuple[datetime, str]], deadline: datetime,
              referred_at: datetime | None) -> datetime:
    intake = next((json.loads(e.data) for e in src.events if e.kind == "received"), {})
    if isinstance(intake.get("deadline"), str):
        deadline = base._aware(datetime.fromisoformat(intake["deadline"])) or deadline
    for at, data in changes:
        moved = json.loads(data).get("deadline")
        if moved and (referred_at is None or base._aware(at) <= referred_at):
            deadline = min(deadline, base._aware(datetime.fromisoformat(moved)) or deadline)
    return deadline


def refresh(conn: Connection, case_ids: Iterable[int], tz: ZoneInfo) -> int:
    inputs = base.load(conn, case_ids, steps=True)
    if not inputs:
        return 0
    ids = [i.case.id for i in inputs]
    people = {r.id: r for r in conn.execute(sa.select(PERSON).where(PERSON.c.id.in_(
        [s.id for i in inputs for s in i.subjects] or [-1])))}
    results = {r.id: r.result for r in conn.execute(sa.select(RESULT).where(RESULT.c.id.in_(
        [g.id for i in inputs for g in i.engagements] or [-1])))}
    changes: dict[int, list[tuple[datetime, str]]] = {}
    for row in conn.execute(sa.select(SEVERITY).where(SEVERITY.c.case_id.in_(ids), SEVERITY.c.kind == "severity")):
        changes.setdefault(row.case_id, []).append((row.at, row.data))
    derived = []
    for src in inputs:
        rows = base.derive(src, tz)
        case = rows["report_case"][0]
        deadline = _deadline(src, changes.get(src.case.id, []), case["deadline_at"], case["referred_at"])
        if deadline != case["deadline_at"]:
            case["deadline_at"] = deadline
            if case["referred_at"] is not None:
                case["deadline_met"] = case["referred_at"] <= deadline
                case["hours_late"] = round((case["referred_at"] - deadline).total_seconds() / 3600, 2)
        for subject, row in zip(src.subjects, rows["report_subject"], strict=True):
            person = people[subject.id]
            row.update(track=person.track or src.case.track, relation=person.relation, org=person.responsible_org)
        for engagement, row in zip(src.engagements, rows["report_engagement"], strict=True):
            row["result"] = results.get(engagement.id)
        derived.append(rows)
    keys = [d["report_case"][0]["fact_key"] for d in derived]
    tables = {**base.TABLES, "report_subject": REPORT_SUBJECT, "report_engagement": REPORT_ENGAGEMENT}
    for name in ("report_subject", "report_offer", "report_engagement", "report_case", "report_step"):
        conn.execute(sa.delete(tables[name]).where(tables[name].c.fact_key.in_(keys)))
    for name in ("report_case", "report_subject", "report_offer", "report_engagement", "report_step"):
        if rows := [r for d in derived for r in d.get(name, [])]:
            conn.execute(sa.insert(tables[name]), rows)
    return len(derived)
