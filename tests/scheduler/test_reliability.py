"""Exactly once across processes: two workers sweeping the same due follow-ups, and a worker killed mid-sweep."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func
from sqlmodel import select

from commands.followups import rules
from storage.db import unit_of_work
from storage.models import Case, FollowUp, OutboxMessage
from tests.conftest import TEST_DATA_KEY, TEST_PSEUDONYM_KEY
from tests.scheduler.helpers import run, seed_members

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday, 11:00 local


def _env(db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))}
    env.update(DATABASE_URL=db_url, PSEUDONYM_KEY=TEST_PSEUDONYM_KEY, DATA_KEY=TEST_DATA_KEY, BOT_LANGUAGE="en",
               PYTHONPATH=str(ROOT))
    return env


def _due_followups(svc, count: int) -> None:
    seed_members(svc)
    run(svc, 'concern new severity=normal track=adult age=25+ source=police district=Valby basis=rpl115 '
             'summary="Deler propaganda online"')
    with unit_of_work(svc.engine) as session:
        case = session.exec(select(Case)).one()
        ct, kid = svc.vault.encrypt(session, "Opfølgning", "followup.text")
        for _ in range(count):
            rules.add_custom(session, case, 3, NOW - timedelta(hours=1), ct, kid, NOW - timedelta(days=1))


def _tick(db_url: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "scheduler", "tick", "--now", NOW.isoformat()], cwd=ROOT,
                            env=_env(db_url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _queued(svc, db_url: str) -> int:
    """Count queued rows without taking SQLite's write lock (our sessions begin IMMEDIATE)."""
    if db_url.startswith("sqlite"):
        with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
            return conn.execute("SELECT count(*) FROM outboxmessage").fetchone()[0]
    with svc.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()


def _check_once(svc, count: int) -> None:
    with unit_of_work(svc.engine) as session:
        targets = Counter(session.exec(select(OutboxMessage.dedupe_key).where(OutboxMessage.target == "OWNER")))
        reminded = Counter(session.exec(select(FollowUp.reminders_sent).where(FollowUp.kind == "custom")))
    assert len(targets) == count and set(targets.values()) == {1}
    assert reminded == {1: count}


def test_two_workers_sweeping_the_same_followups_send_each_dm_once(svc, db_url):
    _due_followups(svc, 1000)
    workers = [_tick(db_url), _tick(db_url)]
    outputs = [w.communicate(timeout=240) for w in workers]
    assert all(w.returncode == 0 for w in workers), [err[-2000:] for _, err in outputs]
    _check_once(svc, 1000)
    printed = sum(out.count("DM to @OWNER") for out, _ in outputs)
    assert printed == 1000  # each queued DM delivered (printed) by exactly one of the two workers
    assert all("Traceback" not in err for _, err in outputs)


def test_worker_killed_mid_sweep_loses_nothing_and_doubles_nothing(svc, db_url):
    _due_followups(svc, 3000)
    worker = _tick(db_url)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _queued(svc, db_url) <= 1:
        time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    with unit_of_work(svc.engine) as session:
        queued = session.exec(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.target == "OWNER")).one()
    assert queued < 3000, "the worker finished before it could be killed; raise the count"
    restarted = _tick(db_url)
    out, err = restarted.communicate(timeout=240)
    assert restarted.returncode == 0, err
    _check_once(svc, 3000)
