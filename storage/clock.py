"""The one clock. Aware UTC everywhere inside; local time only at the edges."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock for tests and for `scheduler tick --now`."""

    def __init__(self, instant: datetime) -> None:
        self.instant = ensure_utc(instant)

    def now(self) -> datetime:
        return self.instant

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.instant += timedelta(**delta)


def ensure_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: every instant must be timezone-aware")
    return value.astimezone(UTC)
