"""The worker's jobs, one module per domain (followups, meetings, retention, reports) and the request-key
housekeeping, declared in one table that every runner reads the same way: `python -m scheduler tick`, the
in-process sweep of a server running alone (scheduler/worker.py `due_now`) and APScheduler in the worker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from commands.context import Services
from scheduler.jobs import followups, meetings, reports, requests, retention


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Services, datetime], object]  # everything due as of the instant; idempotent
    every: int  # seconds between runs in the long-running worker


# In the order one tick runs them.
JOBS: tuple[Job, ...] = (
    Job("sweep", followups.timed_sweep, 30),
    Job("meetings", meetings.meeting_tick, 60),
    Job("retention", retention.retention, 3600),  # erasure is due from 00:00 on its day: hourly, idempotent
    Job("digest", reports.monthly_digest, 600),
    Job("requests", requests.forget_requests, 3600),
)
