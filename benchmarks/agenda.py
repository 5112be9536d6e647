"""Agenda benchmark: build one meeting's agenda with 1 000, 10 000 and 100 000 open cases, SQLite and PostgreSQL.

    python benchmarks/agenda.py [--sizes 1000,10000,100000] [--pg postgresql://postgres@127.0.0.1:5432/test]

Measured: `build_for` (the fixed set of aggregate queries + the pure builder), median of 9 after a warm-up,
and the number of statements it sends. Baseline in the same run: the bare SELECT of the open cases' columns
(what any agenda must at least read). Goal (issue 4): ≤ 200 ms at 10 000 cases, a constant query count.
Each case has 1–2 subjects, 4 timeline events, register checks while unreferred, and follow-ups and offers
in the proportions of a running unit (most open cases referred, active or in follow-up).
"""

from __future__ import annotations

import os
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, insert, text  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from benchmarks.common import each_database  # noqa: E402
from commands.meetings.agenda_load import build_for  # noqa: E402
from storage.db import make_engine, migrate, unit_of_work  # noqa: E402
from storage.enums import OPEN_STATES  # noqa: E402
from storage.models import Case, CaseCheck, CaseEvent, FollowUp, Meeting, Offer, Subject  # noqa: E402

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
STATES = ["new"] * 5 + ["qualifying"] * 5 + ["referred"] * 20 + ["active"] * 40 + ["follow_up"] * 30
TRACKS = ("child", "adult", "adult_psych", "crime")
ORGS = ("SSP", "VINK", "POLICE", "KRIM", "SOF", "EKP")
ROUNDS = 9  # each median is of this many runs


def seed(url: str, count: int) -> None:
    migrate(url)
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        session.add(Meeting(ref="M-2026-001", kind="series", starts_at=NOW + timedelta(days=2),
                            ends_at=NOW + timedelta(days=2, hours=1), created_at=NOW))
        session.add(Meeting(ref="M-2026-002", kind="series", starts_at=NOW - timedelta(days=12),
                            ends_at=NOW - timedelta(days=12) + timedelta(hours=1), state="closed", created_at=NOW))
    for start in range(0, count, 20_000):
        with unit_of_work(engine) as session:
            _batch(session, start, min(count, start + 20_000))
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))  # what autovacuum does for a running unit's tables
    engine.dispose()


def _batch(session, lo: int, hi: int) -> None:  # noqa: ANN001
    cases = []
    for i in range(lo, hi):
        state = STATES[i % len(STATES)]
        received = NOW - timedelta(hours=1 + (i * 7) % (24 * 200))
        referred = state not in ("new", "qualifying")
        cases.append({"ref": f"KE-{2000 + i // 9999}-{i % 9999 + 1:04d}", "state": state,
                      "severity": ("critical", "high", "normal")[i % 3], "track": TRACKS[i % 4], "source": "school",
                      "district": "Valby", "basis": "rpl115", "indicators": "", "received_at": received,
                      "deadline_at": received + timedelta(hours=48), "created_at": received, "updated_at": received,
                      "referred_at": received + timedelta(hours=24) if referred else None,
                      "responsible_org": ORGS[i % 6] if referred else None,
                      # its 4 events' last, a decision (below), kept on the row as record.stamp does
                      "last_event_at": received + timedelta(days=15), "reviewed_at": received + timedelta(days=15)})
    session.execute(insert(Case), cases)
    ids = list(session.exec(select(Case.id, Case.state, Case.received_at).where(
        col(Case.ref).in_([c["ref"] for c in cases])).order_by(col(Case.id))))  # the same data on both engines
    subjects, events, checks, followups, offers = [], [], [], [], []
    for n, (cid, state, received) in enumerate(ids):
        for _ in range(1 + n % 2):
            subjects.append({"case_id": cid, "pseudonym": secrets.token_hex(4).upper(), "age_band": "15-17",
                             "linked": False, "possible_repeat": False, "created_at": received})
        for e in range(4):
            events.append({"case_id": cid, "at": received + timedelta(days=e * 5), "kind": ("state", "note",
                           "checked", "decision")[e], "data": "{}"})
        if state in ("new", "qualifying"):
            checks += [{"case_id": cid, "org": org, "found": n % 4 == 0, "at": received} for org in ORGS[: n % 7]]
        else:
            followups.append({"kind": ("reoffer", "review", "mentor_checkin", "custom")[n % 4], "case_id": cid,
                              "due_at": NOW + timedelta(days=n % 60 - 10), "stage": "due", "state": "pending",
                              "urgent": False, "reminders_sent": 0, "created_at": NOW, "updated_at": NOW})
        if state == "referred" and n % 3 == 0:
            offers.append({"case_id": cid, "kind": "mentor", "state": "pending", "consent": False,
                           "offered_at": received + timedelta(days=1)})
    session.execute(insert(Subject), subjects)
    first_subject = dict(session.exec(select(Subject.case_id, Subject.id).where(
        col(Subject.case_id).in_([o["case_id"] for o in offers]))).all()) if offers else {}
    for offer in offers:
        offer["subject_id"] = first_subject[offer["case_id"]]
    for table, rows in ((CaseEvent, events), (CaseCheck, checks), (FollowUp, followups), (Offer, offers)):
        if rows:
            session.execute(insert(table), rows)


def measure(label: str, url: str, count: int) -> tuple[str, int, float, float, int, int, float, float]:
    seed(url, count)
    engine = make_engine(url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    def baseline(clock=time.perf_counter) -> float:  # noqa: ANN001
        started = clock()
        with unit_of_work(engine) as session:
            list(session.exec(select(Case.id, Case.ref, Case.state, Case.severity, Case.track, Case.responsible_org,
                                     Case.received_at, Case.deadline_at, Case.referred_at)
                              .where(col(Case.state).in_([s.value for s in OPEN_STATES]))))
        return clock() - started

    def build(clock=time.perf_counter) -> tuple[float, int, int]:  # noqa: ANN001
        with unit_of_work(engine) as session:
            meeting = session.exec(select(Meeting).where(Meeting.ref == "M-2026-001")).one()
            statements.clear()
            started = clock()
            agenda = build_for(session, meeting, NOW)
            elapsed = clock() - started
        return elapsed, len(statements), len(agenda.items())

    baseline(), build()  # warm-up: connections, statement caches
    # the baseline and the build taken in turns, so a neighbour's burst on a shared machine weighs on both
    walls = [(baseline(), build()) for _ in range(ROUNDS)]
    cpus = [(baseline(time.process_time), build(time.process_time)[0]) for _ in range(ROUNDS)]
    engine.dispose()
    runs = [b for _, b in walls]
    return (label, count, statistics.median(w for w, _ in walls), statistics.median(r[0] for r in runs), runs[0][1],
            runs[0][2], statistics.median(c for c, _ in cpus), statistics.median(c for _, c in cpus))


def main() -> None:
    results = each_database(measure)
    print("\nAgenda build for one meeting (goal ≤ 200 ms at 10 000 open cases, constant query count)\n")
    print("| database | open cases | baseline SELECT of open cases | agenda build | queries | items | ratio "
          "| CPU in this process: baseline / build / ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, count, base, elapsed, queries, items, base_cpu, cpu in results:
        print(f"| {label} | {count:,} | {base * 1000:.0f} ms | {elapsed * 1000:.0f} ms | {queries} | {items:,} | "
              f"{elapsed / base:.1f}× | {base_cpu * 1000:.0f} / {cpu * 1000:.0f} ms / {cpu / base_cpu:.1f}× |")
    print(f"\nload average during the run: {os.getloadavg()[0]:.1f} (on a shared machine, wall times grow with it)")


if __name__ == "__main__":
    main()
