"""Sweep benchmark: 100 000 pending follow-ups of which 1 000 are due; one sweep, SQLite and PostgreSQL.

    python benchmarks/sweep.py [--pending 100000] [--due 1000] [--pg postgresql://postgres@127.0.0.1:5432/test]

Baseline in the same run: the bare indexed SELECT of the due rows (what any sweep must at least do).
Goal (issue 5): the sweep of 1 000 due among 100 000 in ≤ 1 s.
"""

from __future__ import annotations

import argparse
import base64
import secrets
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
from scheduler.jobs.sweep import sweep  # noqa: E402
from storage.clock import FixedClock  # noqa: E402
from storage.crypto import Keys  # noqa: E402
from storage.db import make_engine, migrate, pg_schema, unit_of_work  # noqa: E402
from storage.models import Case, FollowUp, Member  # noqa: E402
from storage.settings import Settings  # noqa: E402

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def setup(url: str, pending: int, due: int) -> Services:
    migrate(url)
    settings = Settings(database_url=url, bot_language="en")
    svc = Services(settings=settings, engine=make_engine(url), clock=FixedClock(NOW),
                   keys=Keys(secrets.token_bytes(32), secrets.token_bytes(32)))
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


def baseline(svc: Services) -> float:
    started = time.perf_counter()
    with unit_of_work(svc.engine) as session:
        list(session.exec(select(FollowUp).where(col(FollowUp.state).in_(("pending", "sent", "snoozed")),
                                                 col(FollowUp.notify_at) <= NOW).limit(500)))
        list(session.exec(select(FollowUp).where(col(FollowUp.state).in_(("pending", "sent", "snoozed")),
                                                 col(FollowUp.notify_at) <= NOW).offset(500).limit(500)))
    return time.perf_counter() - started


def measure(label: str, url: str, pending: int, due: int) -> tuple[str, float, float, int]:
    svc = setup(url, pending, due)
    base = statistics.median(baseline(svc) for _ in range(3))
    started = time.perf_counter()
    result = sweep(svc, NOW)
    elapsed = time.perf_counter() - started
    assert result.reminded == due, result
    svc.engine.dispose()
    return label, base, elapsed, result.reminded


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(measure("SQLite", f"sqlite:///{tmp}/bench.db", args.pending, args.due))
    if args.pg:
        with pg_schema(args.pg, "bench") as url:
            results.append(measure("PostgreSQL", url, args.pending, args.due))
    print(f"\n{args.due} due among {args.pending} pending follow-ups, one sweep (goal ≤ 1 s)\n")
    print("| database | baseline SELECT of due rows | sweep (DMs queued in the outbox) | reminded | ratio |")
    print("|---|---:|---:|---:|---:|")
    for label, base, elapsed, reminded in results:
        print(f"| {label} | {base * 1000:.0f} ms | {elapsed * 1000:.0f} ms | {reminded} | {elapsed / base:.0f}× |")
    _ = base64  # keys are random per run


if __name__ == "__main__":
    main()
