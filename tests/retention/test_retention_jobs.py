"""The retention job from outside: the monthly notice, `scheduler tick --now`, two workers, a killed worker,
and a concern about an erased person."""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from retkit import PERSON_X, PERSON_Y, SEC, at, intake, ok, rich_case, seed, subjects
from sqlmodel import col, select

from commands.retention import erase
from commands.retention.handlers import monthly_notice
from storage.db import unit_of_work
from storage.models import AuditEntry, Case, CaseEvent, OutboxMessage, Subject
from tests.scheduler.helpers import sent
from tests.scheduler.test_reliability import ROOT, _env

# Written before work procedures: its cases close without ticking checklist steps (or it counts reminders
# and agenda items that steps would add); procedures have their own tests (tests/profile/test_steps.py).
pytestmark = pytest.mark.procedures_off

UNFOUNDED = ('concern new severity=normal track=adult age=25+ source=police district=Valby basis=rpl115 '
             'summary="Grundløs bekymring nr {n}"')
LATER = datetime(2027, 9, 1, 10, 0, tzinfo=UTC)  # every case closed on 23 Nov 2026 as unfounded is due


def test_the_secretariat_is_told_once_a_month_which_references_go_next(svc, clock):
    seed(svc)
    r = rich_case(svc, clock)  # closed 23 Nov 2026 → erased 22 Nov 2028 (730 days, 2028 is a leap year)
    start = len(sent(svc))
    at(clock, "2028-11-01 07:59")
    assert monthly_notice(svc, clock.now()) is None  # before 08:00 on the first working day
    at(clock, "2028-11-01 08:00")
    assert monthly_notice(svc, clock.now()) == [r.ref]
    at(clock, "2028-11-20 12:00")
    assert monthly_notice(svc, clock.now()) is None  # once a month
    posts = [(kind, target, text) for kind, target, text in sent(svc)[start:]]
    assert len(posts) == 1 and posts[0][:2] == ("channel", "secretariat")
    text = posts[0][2]
    assert r.ref in text and r.other not in text and "November 2028" in text
    assert r.x not in text and "hemmelig" not in text  # references only
    due = ok(svc, "unit retention", user=SEC)
    assert "22 Nov 2028: " + r.ref in "\n".join(f.value for f in due.fields)


def _many(svc, count: int) -> list[str]:
    seed(svc)
    refs = []
    for n in range(count):
        ok(svc, UNFOUNDED.format(n=n))
    with unit_of_work(svc.engine) as session:
        refs = list(session.exec(select(Case.ref).order_by(col(Case.id))))
    for ref in refs:
        ok(svc, f"case close {ref} reason=unfounded")
    return refs


def _tick(db_url: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "scheduler", "tick", "--now", LATER.isoformat()], cwd=ROOT,
                            env=_env(db_url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _erasures(svc) -> Counter:
    with unit_of_work(svc.engine) as session:
        return Counter(session.exec(select(AuditEntry.case_ref).where(AuditEntry.action == "case.erase")))


def test_scheduler_tick_runs_retention_and_two_workers_erase_each_case_once(svc, db_url):
    refs = _many(svc, 40)
    workers = [_tick(db_url), _tick(db_url)]
    outputs = [w.communicate(timeout=240) for w in workers]
    assert all(w.returncode == 0 for w in workers), [err[-2000:] for _, err in outputs]
    assert _erasures(svc) == Counter({ref: 1 for ref in refs})
    # the summary line of each tick (the channel posts a tick delivers are printed before it)
    printed = sum(int(re.search(r"^swept as of .*?(\d+) erased", out, re.M).group(1)) for out, _ in outputs)
    assert printed == 40
    assert all("Traceback" not in err for _, err in outputs)


def _erased_count(svc, db_url: str) -> int:
    if db_url.startswith("sqlite"):
        with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
            return conn.execute("SELECT count(*) FROM cases WHERE erased_at IS NOT NULL").fetchone()[0]
    with svc.engine.connect() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM cases WHERE erased_at IS NOT NULL").scalar_one()


def test_a_worker_killed_mid_batch_leaves_no_half_erased_case(svc, db_url):
    refs = _many(svc, 150)
    worker = _tick(db_url)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _erased_count(svc, db_url) < 3:
        time.sleep(0.005)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    with unit_of_work(svc.engine) as session:
        for case in session.exec(select(Case)):
            subjects_left = session.exec(select(Subject.id).where(Subject.case_id == case.id)).first()
            events_left = session.exec(select(CaseEvent.id).where(CaseEvent.case_id == case.id)).first()
            whole = case.summary_ct is not None and case.fact_key is not None and subjects_left and events_left
            gone = (case.erased_at is not None and case.summary_ct is None and case.fact_key is None
                    and subjects_left is None and events_left is None)
            assert whole or gone, case.ref
    assert _erased_count(svc, db_url) < 150, "the worker finished before it could be killed; raise the count"
    restarted = _tick(db_url)
    _out, err = restarted.communicate(timeout=240)
    assert restarted.returncode == 0, err
    assert _erasures(svc) == Counter({ref: 1 for ref in refs})


def test_a_concern_about_an_erased_person_is_not_a_repeat(svc, clock):
    seed(svc)
    r = rich_case(svc, clock)
    at(clock, "2028-11-24 09:00")
    assert erase.erase_due(svc, clock.now()) == [r.ref]
    before = len(sent(svc))
    ref_y = intake(svc, "Ny bekymring", [PERSON_Y])
    ref_x = intake(svc, "Ny bekymring igen", [PERSON_X])
    with unit_of_work(svc.engine) as session:
        flags = {ref: [s.possible_repeat for s in session.exec(
            select(Subject).join(Case, col(Case.id) == col(Subject.case_id)).where(Case.ref == ref))]
                 for ref in (ref_y, ref_x)}
        repeat_posts = session.exec(select(OutboxMessage.id).where(OutboxMessage.id > 0)).all()
    assert flags == {ref_y: [False], ref_x: [True]}  # X is still known from case B; Y is forgotten
    notices = [text for _k, target, text in sent(svc)[before:] if target == "secretariat"]
    assert len(notices) == 1 and r.other in notices[0] and r.ref not in notices[0]
    assert subjects(svc, ref_y) == [r.y]  # the same keyed pseudonym again, with no history
    assert repeat_posts
