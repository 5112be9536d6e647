"""Issue 26: once-only request keys are kept for a day (long past any platform's replay window), then the worker
forgets them, so the table stays small."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from scheduler.jobs.requests import REQUEST_MEMORY
from scheduler.worker import run_jobs
from storage.db import unit_of_work
from storage.models import ProcessedRequest
from storage.sequences import first_time


def test_request_keys_are_forgotten_after_a_day(svc):
    now = svc.clock.now()
    with unit_of_work(svc.engine) as session:
        assert first_time(session, "slack:old", now - REQUEST_MEMORY - timedelta(minutes=1))
        assert first_time(session, "slack:recent", now - timedelta(minutes=4))
    run_jobs(svc, now)
    with unit_of_work(svc.engine) as session:
        assert list(session.exec(select(ProcessedRequest.key))) == ["slack:recent"]
        assert not first_time(session, "slack:recent", now)  # still acted on once
