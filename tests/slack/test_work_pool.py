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

from bot.slack.work import Work
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
