"""Gap-free, never-reused sequence numbers and once-only request keys, safe under concurrent writers on both
engines; each one statement (an upsert)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from storage.models import Counter, ProcessedRequest


def _insert(session: Session):  # noqa: ANN202 — the dialect's INSERT with ON CONFLICT
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def next_value(session: Session, name: str) -> int:
    """Increment and return counter `name` in one statement (an upsert); the row lock serialises concurrent
    callers until commit."""
    statement = _insert(session)(Counter).values(name=name, value=1)
    statement = statement.on_conflict_do_update(
        index_elements=[Counter.name], set_={"value": Counter.value + 1}).returning(Counter.value)
    return int(session.exec(statement).scalar_one())  # type: ignore[call-overload]


def first_time(session: Session, key: str, at: datetime) -> bool:
    """Record request `key`; False when it was recorded before (a platform's retry). A concurrent first
    delivery of the same key waits for the other transaction and then finds it."""
    statement = _insert(session)(ProcessedRequest).values(key=key, at=at)
    statement = statement.on_conflict_do_nothing(index_elements=[ProcessedRequest.key]).returning(ProcessedRequest.key)
    return session.exec(statement).first() is not None  # type: ignore[call-overload]


def forget_before(session: Session, before: datetime) -> int:
    """Drop request keys recorded before `before`: a platform cannot deliver those again (Slack refuses a
    signature older than 5 minutes, a Teams token lives about an hour), so the table stays small."""
    result = session.exec(delete(ProcessedRequest).where(col(ProcessedRequest.at) < before))  # type: ignore[call-overload]
    return int(result.rowcount or 0)
