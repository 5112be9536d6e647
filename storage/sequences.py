"""Gap-free, never-reused sequence numbers, safe under concurrent writers on both engines."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from storage.models import Counter


def next_value(session: Session, name: str) -> int:
    """Increment and return counter `name`; the row lock serialises concurrent callers until commit."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.exec(insert(Counter).values(name=name, value=0).on_conflict_do_nothing())  # type: ignore[call-overload]
    result = session.exec(  # type: ignore[call-overload]
        update(Counter).where(Counter.name == name).values(value=Counter.value + 1).returning(Counter.value)
    )
    return int(result.scalar_one())
