"""`python -m scheduler tick --now …` at successive instants prints exactly the reminders SPEC.md §4 prescribes."""

from __future__ import annotations

import subprocess
import sys

from tests.scheduler.helpers import CONCERN, run, seed_members, set_now
from tests.scheduler.test_reliability import ROOT, _env
from tests.scheduler.test_sweep import local


def tick(db_url: str, instant) -> str:
    done = subprocess.run([sys.executable, "-m", "scheduler", "tick", "--now", instant.isoformat()], cwd=ROOT,
                          env=_env(db_url), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def test_successive_ticks_print_the_prescribed_reminders_once(svc, db_url):
    seed_members(svc)
    set_now(svc, local(2026, 11, 23, 10, 0))
    run(svc, CONCERN.format(severity="high", age="15-17", received="2026-11-23 10:00"))
    run(svc, 'followup add KE-2026-0001 due="2026-11-24 11:00" "Ring til skolen"', user="OWNER")
    out = tick(db_url, local(2026, 11, 23, 12, 0))
    assert "DM to" not in out and "channel #" not in out.replace("channel #unit", "")  # only the intake notice
    out = tick(db_url, local(2026, 11, 24, 11, 0))
    assert out.count("DM to @OWNER") == 1 and "Ring til skolen" in out
    assert "1 reminded" in out
    again = tick(db_url, local(2026, 11, 24, 11, 0))
    assert "0 reminded" in again and "DM to" not in again
    out = tick(db_url, local(2026, 11, 24, 22, 0))  # 75 % of 48 h, but evening: nothing yet
    assert "0 reminded" in out
    out = tick(db_url, local(2026, 11, 25, 8, 0))
    assert out.count("DM to @SEC") == 1 and "KE-2026-0001" in out
    out = tick(db_url, local(2026, 11, 25, 10, 0))
    assert "channel #secretariat" in out and "DM to" not in out
    assert "Udtaler" not in out  # never free text in a channel
