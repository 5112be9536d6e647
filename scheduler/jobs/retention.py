"""The worker's retention duty: erase what is due (closed cases, advice contacts), then the monthly notice of
coming erasures to the secretariat (commands/retention/)."""

from __future__ import annotations

from datetime import datetime

from commands.context import Services
from commands.retention import erase
from commands.retention.handlers import monthly_notice


def erase_due_and_notify(svc: Services, now: datetime) -> tuple[list[str], list[str] | None]:
    """Erase what is due as of `now`, then the monthly notice: the erased references, and those the notice
    named (None when no notice was due)."""
    erased = erase.erase_due(svc, now)
    erase.erase_advice_due(svc, now)
    return erased, monthly_notice(svc, now)


def retention(svc: Services, now: datetime) -> int:
    """The job: how many cases it erased."""
    return len(erase_due_and_notify(svc, now)[0])
