"""The worker's housekeeping of platform request ids (issue 26): a request is acted on once, and its key is
remembered for a day."""

from __future__ import annotations

from datetime import datetime, timedelta

from commands.context import Services
from storage.db import unit_of_work
from storage.sequences import forget_before

REQUEST_MEMORY = timedelta(days=1)  # how long a platform request id is remembered (acted on once)


def forget_requests(svc: Services, now: datetime) -> int:
    """Once-only request keys older than REQUEST_MEMORY can no longer come back: forgotten."""
    with unit_of_work(svc.engine) as session:
        return forget_before(session, now - REQUEST_MEMORY)
