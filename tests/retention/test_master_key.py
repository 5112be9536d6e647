"""`python -m bot keys rotate-master`: every data key re-wrapped under the new DATA_KEY while DATA_KEY_PREVIOUS
holds the old one; `case show` answers throughout; a crash half-way and a rerun."""

from __future__ import annotations

import base64
import subprocess
import sys

import pytest
from retkit import ok, rich_case, seed
from sqlmodel import select

from commands.context import Services
from storage.crypto import KeyMaterialError, Keys, Vault
from storage.db import unit_of_work
from storage.masterkey import rotate_master
from storage.models import AuditEntry, DataKey
from tests.conftest import TEST_DATA_KEY, TEST_PSEUDONYM_KEY
from tests.scheduler.test_reliability import ROOT, _env

# Written before work procedures: its cases close without ticking checklist steps (or it counts reminders
# and agenda items that steps would add); procedures have their own tests (tests/profile/test_steps.py).
pytestmark = pytest.mark.procedures_off

NEW_KEY = base64.b64encode(b"n" * 32).decode()
OLD = base64.b64decode(TEST_DATA_KEY)
NEW = base64.b64decode(NEW_KEY)


def with_keys(svc: Services, master: bytes, previous: bytes | None) -> Services:
    """The same database seen by a process started with these keys (a fresh vault: nothing cached)."""
    keys = Keys(base64.b64decode(TEST_PSEUDONYM_KEY), master, previous_master=previous)
    return Services(settings=svc.settings, engine=svc.engine, keys=keys, clock=svc.clock)


def _shows(svc: Services, ref: str, secret: str) -> bool:
    try:
        reply = ok(svc, f"case show {ref}")
    except AssertionError:
        return False
    return any(secret in f.value for f in reply.fields)


def _unit_with_keys(svc, clock, count: int = 6):
    seed(svc)
    r = rich_case(svc, clock)
    for _ in range(count - 1):
        clock.advance(seconds=1)  # keys made at distinct instants: rotate-master's order is then theirs
        ok(svc, "unit keys rotate")  # more data keys: the free text is spread over them
    with unit_of_work(svc.engine) as session:
        assert len(list(session.exec(select(DataKey)))) == count
    return r


def test_a_crash_half_way_leaves_everything_readable_and_a_rerun_finishes(svc, clock):
    r = _unit_with_keys(svc, clock)
    both = with_keys(svc, NEW, OLD)
    with pytest.raises(KeyMaterialError):
        rotate_master(svc.engine, both.vault, clock, has_previous=False)

    class Crash(Exception):
        pass

    done: list[str] = []

    def crash_after_two(kid: str) -> None:
        done.append(kid)
        if len(done) == 2:
            raise Crash

    with pytest.raises(Crash):
        rotate_master(svc.engine, both.vault, clock, has_previous=True, after_each=crash_after_two)
    assert _shows(with_keys(svc, NEW, OLD), r.ref, r.secrets["summary"])  # either key opens each data key
    assert not _shows(with_keys(svc, NEW, None), r.ref, r.secrets["summary"])  # not finished yet
    again = rotate_master(svc.engine, with_keys(svc, NEW, OLD).vault, clock, has_previous=True)
    assert (again.rewrapped, again.already, again.total) == (4, 2, 6)
    assert _shows(with_keys(svc, NEW, None), r.ref, r.secrets["summary"])  # the old key is no longer needed
    assert not _shows(with_keys(svc, OLD, None), r.ref, r.secrets["summary"])
    vault = Vault(NEW, clock)
    with unit_of_work(svc.engine) as session:
        assert all(vault.unwrap_raw(k.kid, k.wrapped)[1] for k in session.exec(select(DataKey)))
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "keys.rotate_master")).first()
    assert "intact" in ok(with_keys(svc, NEW, None), "unit audit verify").text


def test_the_command_rotates_while_case_show_keeps_answering(svc, clock, db_url):
    r = _unit_with_keys(svc, clock, count=30)
    env = {**_env(db_url), "DATA_KEY": NEW_KEY, "DATA_KEY_PREVIOUS": TEST_DATA_KEY}
    run = subprocess.Popen([sys.executable, "-m", "bot", "keys", "rotate-master"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    answered = 0
    while run.poll() is None:
        assert _shows(with_keys(svc, NEW, OLD), r.ref, r.secrets["summary"])  # a server restarted with both keys
        answered += 1
    out, err = run.communicate()
    assert run.returncode == 0, err
    assert "30 data keys re-wrapped" in out and "PSEUDONYM_KEY cannot be rotated" in out
    assert answered > 0
    assert _shows(with_keys(svc, NEW, None), r.ref, r.secrets["summary"])
    rerun = subprocess.run([sys.executable, "-m", "bot", "keys", "rotate-master"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0 and "0 data keys re-wrapped, 30 already" in rerun.stdout
    helptext = subprocess.run([sys.executable, "-m", "bot", "keys", "--help"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60).stdout
    assert "PSEUDONYM_KEY cannot be rotated" in " ".join(helptext.split())
