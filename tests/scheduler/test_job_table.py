"""One table of jobs (scheduler/jobs/__init__.py): `tick`, the in-process sweep and APScheduler run the same
jobs, in the same order, at the intervals the table declares."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scheduler import worker
from scheduler.jobs import JOBS
from scheduler.jobs.followups import SweepResult


class RecordingScheduler:
    def __init__(self) -> None:
        self.jobs: list[tuple[str, int]] = []

    def add_job(self, _func: Any, _trigger: str, *, seconds: int, id: str, **_opts: Any) -> None:  # noqa: A002
        self.jobs.append((id, seconds))


def test_the_worker_schedules_every_job_of_the_table_at_its_interval(svc) -> None:
    scheduler = RecordingScheduler()

    async def deliver(_svc: Any) -> int:
        return 0

    worker.add_jobs(scheduler, svc, deliver)  # type: ignore[arg-type]
    assert scheduler.jobs == [*((job.name, job.every) for job in JOBS), ("deliver", worker.DELIVERY_SECONDS)]
    assert worker.SWEEP_SECONDS == 30


def test_one_run_runs_every_job_of_the_table_in_its_order(svc) -> None:
    ran: list[str] = []

    def recorder(name: str) -> Any:
        def run(_svc: Any, _now: datetime) -> object:
            ran.append(name)
            return SweepResult() if name == "sweep" else 2 if name == "retention" else None
        return run

    result = worker.run_jobs(svc, svc.clock.now(), instead={job.name: recorder(job.name) for job in JOBS})
    assert ran == [job.name for job in JOBS] == ["sweep", "meetings", "retention", "digest", "requests"]
    assert result.erased == 2


def test_the_in_process_sweep_and_tick_run_the_real_jobs(svc) -> None:
    assert worker.due_now(svc).erased == 0
    assert worker.run_jobs(svc, svc.clock.now()).reminded == 0
