"""Sweep benchmark: 100 000 pending follow-ups of which 1 000 are due; one sweep, SQLite and PostgreSQL.

    python benchmarks/sweep.py [--pending 100000] [--due 1000] [--runs 3] [--pg postgresql://postgres@127.0.0.1:5432/test]

Floor in the same run, on the same data: the bare indexed SELECT of the due rows plus one bulk INSERT of as many
outbox rows (payloads of the same size, not encrypted) — what any sweep must at least do. Each run starts from
the same database (a copy of the SQLite file; a fresh PostgreSQL schema), after a warm-up that reads the unit
profile once, as a running worker has. Goals: ≤ 1 s (issue 5); ≤ 5× the floor (issue 24).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from commands.context import Services  # noqa: E402
from scheduler.jobs.followups import sweep  # noqa: E402
from storage.clock import FixedClock  # noqa: E402
from storage.crypto import Keys  # noqa: E402
from storage.db import make_engine, migrate, pg_schema, unit_of_work  # noqa: E402
from storage.models import Case, FollowUp, Member, OutboxMessage  # noqa: E402
from storage.settings import Settings  # noqa: E402

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


KEYS = Keys(secrets.token_bytes(32), secrets.token_bytes(32))


def setup_services(url: str) -> Services:
    return Services(settings=Settings(database_url=url, bot_language="en"), engine=make_engine(url),
                    clock=FixedClock(NOW), keys=KEYS)


def setup(url: str, pending: int, due: int) -> Services:
    migrate(url)
    svc = setup_services(url)
    with unit_of_work(svc.engine) as session:
        member = Member(user_id="OWNER", platform="console", role="member", org="SOF", created_at=NOW)
        session.add(member)
        case = Case(ref="KE-2026-0001", state="referred", severity="normal", track="adult", source="police",
                    district="Valby", basis="rpl115", received_at=NOW, deadline_at=NOW, created_at=NOW,
                    updated_at=NOW)
        session.add(case)
        session.flush()
        rows = []
        for i in range(pending):
            at = NOW - timedelta(minutes=1) if i < due else NOW + timedelta(days=1 + i % 300)
            rows.append({"kind": "reoffer", "case_id": case.id, "assignee_id": member.id, "due_at": at,
                         "notify_at": at, "stage": "3m", "state": "pending", "urgent": False, "reminders_sent": 0,
                         "created_at": NOW, "updated_at": NOW})
        for start in range(0, len(rows), 10_000):
            session.execute(insert(FollowUp), rows[start:start + 10_000])
    return svc


def floor(svc: Services, due: int) -> float:
    """SELECT the due rows, INSERT as many outbox rows in one statement (rolled back: the data stays as it is)."""
    payload = secrets.token_bytes(600)  # about a reminder DM's encrypted size
    started = time.perf_counter()
    with svc.engine.connect() as conn:
        rows = conn.execute(select(FollowUp.__table__).where(  # type: ignore[attr-defined]
            col(FollowUp.state).in_(("pending", "sent", "snoozed")), col(FollowUp.notify_at) <= NOW)).all()
        conn.execute(insert(OutboxMessage.__table__), [  # type: ignore[attr-defined]
            {"created_at": NOW, "target_kind": "user", "target": "OWNER", "payload_ct": payload, "payload_kid": "k",
             "state": "pending", "attempts": 0, "next_attempt_at": NOW, "dedupe_key": f"floor:{r.id}"}
            for r in rows])
        conn.rollback()
    assert len(rows) == due
    return time.perf_counter() - started


def one_sweep(svc: Services, due: int) -> float:
    svc.calendar()  # warm: a running worker has read the unit profile before
    started = time.perf_counter()
    result = sweep(svc, NOW)
    elapsed = time.perf_counter() - started
    assert result.reminded == due, result
    return elapsed


def measure(label: str, fresh, pending: int, due: int, runs: int) -> tuple[str, float, float, int]:  # noqa: ANN001
    floors, sweeps = [], []
    for _ in range(runs):
        with fresh() as svc:
            floors.append(statistics.median(floor(svc, due) for _ in range(3)))
            sweeps.append(one_sweep(svc, due))
    return label, statistics.median(floors), statistics.median(sweeps), due


def sqlite_runs(tmp: str, pending: int, due: int):  # noqa: ANN201
    """A fresh copy of one prepared SQLite database per run."""
    master = f"{tmp}/master.db"
    setup(f"sqlite:///{master}", pending, due).engine.dispose()
    count = itertools.count()

    @contextlib.contextmanager
    def fresh():  # noqa: ANN202
        path = f"{tmp}/run{next(count)}.db"
        shutil.copy(master, path)
        svc = setup_services(f"sqlite:///{path}")
        yield svc
        svc.engine.dispose()

    return fresh


def pg_runs(base_url: str, pending: int, due: int):  # noqa: ANN201
    @contextlib.contextmanager
    def fresh():  # noqa: ANN202
        with pg_schema(base_url, "bench") as url:
            svc = setup(url, pending, due)
            with svc.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
            yield svc
            svc.engine.dispose()

    return fresh


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(measure("SQLite", sqlite_runs(tmp, args.pending, args.due), args.pending, args.due, args.runs))
    if args.pg:
        results.append(measure("PostgreSQL", pg_runs(args.pg, args.pending, args.due), args.pending, args.due,
                               args.runs))
    print(f"\n{args.due} due among {args.pending} pending follow-ups, one sweep, median of {args.runs} runs "
          "(goals: ≤ 1 s; ≤ 5× the floor)\n")
    print("| database | floor: SELECT due rows + bulk INSERT of as many outbox rows | sweep (DMs queued in the outbox)"
          " | reminded | ratio |")
    print("|---|---:|---:|---:|---:|")
    for label, base, elapsed, reminded in results:
        print(f"| {label} | {base * 1000:.0f} ms | {elapsed * 1000:.0f} ms | {reminded} | {elapsed / base:.1f}× |")


if __name__ == "__main__":
    main()
