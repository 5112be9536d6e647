"""The work processes of `serve`: several jobs at once in one process, failures where the job was awaited, and a
fresh process after one dies."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pytest

from bot.work import Work
from commands.context import Services
from commands.reply import Invocation
from commands.router import dispatch
from storage.settings import Settings
from tests.conftest import make_svc

# Written before work procedures: its cases close without ticking checklist steps (or it counts reminders
# and agenda items that steps would add); procedures have their own tests (tests/profile/test_steps.py).
pytestmark = pytest.mark.procedures_off


def nap(_svc: Services, seconds: float) -> int:
    time.sleep(seconds)  # like a job waiting for the database: the process's other threads run meanwhile
    return os.getpid()


def fail(_svc: Services, message: str) -> None:
    raise ValueError(message)


async def test_one_work_process_runs_its_jobs_side_by_side(slack_settings: Settings, clock: Any) -> None:
    svc = make_svc(slack_settings.model_copy(update={"work_threads": 4}), clock)
    work = Work(svc, processes=1)
    await work.start()
    try:
        started = time.monotonic()
        pids = await asyncio.gather(*(work(nap, 0.5) for _ in range(4)))
        assert time.monotonic() - started < 1.5  # four half-second jobs at once, not one after another (2 s)
        assert len(set(pids)) == 1 and pids[0] != os.getpid()
        reply = await work(dispatch, Invocation(user_id="UADMIN", text="case list", platform="slack"))
        assert reply.ok and "No cases" in reply.text
    finally:
        work.stop()
        svc.engine.dispose()


async def test_a_failing_job_raises_where_it_was_awaited_and_a_dead_process_is_replaced(
        slack_settings: Settings, clock: Any) -> None:
    svc = make_svc(slack_settings, clock)
    work = Work(svc, processes=1)
    await work.start()
    try:
        with pytest.raises(ValueError, match="no such thing"):
            await work(fail, "no such thing")
        pid = await work(nap, 0)
        pending = asyncio.ensure_future(work(nap, 30))
        await asyncio.sleep(0.3)
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(BrokenProcessPool):
            await asyncio.wait_for(pending, 10)  # the job in flight fails instead of hanging
        fresh = await asyncio.wait_for(work(nap, 0), 60)
        assert fresh != pid
    finally:
        work.stop()
        svc.engine.dispose()


async def test_the_event_loop_itself_talks_to_the_work_processes_no_thread_beside_it(slack_settings: Settings,
                                                                                   clock: Any) -> None:
    """Jobs go out and results come back on a socket the event loop reads and writes: the server runs no
    thread per work process (a thread cost the loop a hand-over of the interpreter lock per job)."""
    import threading

    svc = make_svc(slack_settings.model_copy(update={"work_threads": 2}), clock)
    before = threading.active_count()
    work = Work(svc, processes=2)
    await work.start()
    try:
        pids = await asyncio.gather(*(work(nap, 0.05) for _ in range(20)))
        assert len(set(pids)) == 2 and os.getpid() not in pids
        assert threading.active_count() == before
        big = await work(echo, b"x" * (3 << 20))  # larger than a socket's buffer, both ways
        assert big == b"x" * (3 << 20)
    finally:
        work.stop()
        svc.engine.dispose()


def echo(_svc: Services, value: bytes) -> bytes:
    return value


PREFORK = """
import asyncio, os, sys, threading
from bot.work import Work
from commands.reply import Invocation
from commands.router import dispatch
from storage.settings import Settings
from tests.conftest import make_svc
from storage.clock import SystemClock

def pid(_svc):
    return os.getpid(), _svc.engine.pool.status()

svc = make_svc(Settings(database_url=sys.argv[1], pseudonym_key=sys.argv[2], data_key=sys.argv[3],
                        admin_users=("UADMIN",), slack_bot_token="xoxb-test"), SystemClock())
svc.engine.connect().close()  # a pooled connection the children must not share
work = Work(svc, processes=2)
assert threading.active_count() == 1
forked = work.prefork()

async def main():
    await work.start()
    pids = {p for p, _ in await asyncio.gather(*(work(pid) for _ in range(8)))}
    reply = await work(dispatch, Invocation(user_id="UADMIN", text="case list", platform="slack"))
    print(forked, len(pids), os.getpid() in pids, reply.ok)
    work.stop()

asyncio.run(main())
"""


def test_serve_forks_its_work_processes_before_any_thread_starts_and_they_work(settings: Settings) -> None:
    """`serve` forks the work processes once everything is loaded (they share its memory) — only while no thread
    runs; the forked children open their own database connections and run the use cases."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", PREFORK, settings.database_url, settings.pseudonym_key or "",
                           settings.data_key or ""], cwd=root, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True", "2", "False", "True"]


async def test_prefork_declines_while_a_thread_runs_and_start_spawns_instead(slack_settings: Settings,
                                                                            clock: Any) -> None:
    import threading

    svc = make_svc(slack_settings, clock)
    work = Work(svc, processes=1)
    stop = threading.Event()
    busy = threading.Thread(target=stop.wait, daemon=True)
    busy.start()
    try:
        assert work.prefork() is False  # another thread runs: forking now could inherit a held lock
        await work.start()
        assert await work(nap, 0) != os.getpid()
    finally:
        stop.set()
        work.stop()
        svc.engine.dispose()
