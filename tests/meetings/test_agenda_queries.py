"""The agenda costs a constant number of database queries, whatever the number of open cases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlmodel import select

from commands.context import Services
from commands.meetings.agenda_load import build_for
from storage.db import unit_of_work
from storage.models import Meeting
from tests.meetings.mtkit import SERIES, bulk_cases, ok, seed


@contextmanager
def counting(svc: Services) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(svc.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(svc.engine, "before_cursor_execute", count)


def build_count(svc: Services) -> tuple[int, int]:
    with unit_of_work(svc.engine) as session:
        meeting = session.exec(select(Meeting).where(Meeting.ref == "M-2026-001")).one()
        with counting(svc) as statements:
            agenda = build_for(session, meeting, svc.clock.now())
    return len(statements), len(agenda.items())


def command_count(svc: Services) -> int:
    with counting(svc) as statements:
        ok(svc, "agenda M-2026-001")
    return len(statements)


def test_agenda_build_queries_do_not_grow_with_the_cases(svc: Services):
    seed(svc)
    ok(svc, SERIES.format(policy="skip"))
    bulk_cases(svc, 10)
    small, small_items = build_count(svc)
    small_command = command_count(svc)
    bulk_cases(svc, 190, start=11)
    large, large_items = build_count(svc)
    large_command = command_count(svc)
    assert large_items > 10 * small_items / 2  # the cases are really on the agenda
    assert small == large <= 12
    assert small_command == large_command
