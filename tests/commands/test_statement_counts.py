"""The SQL a command costs, counted with a SQLAlchemy event listener: every statement is a round trip to
PostgreSQL that a user waits for, and under load the round trips are what limits the answers
(docs/benchmarks.md). A change that adds statements to the busiest commands should be a deliberate one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from cmdkit import ADMIN, SEVERITY_HIGH_CONCERN, new_case, run, seed_admin
from sqlalchemy import event

from commands.context import Services

# Upper bounds, per command, on both engines (PostgreSQL adds the audit chain's advisory lock, SQLite its
# BEGIN IMMEDIATE). Every command reads the unit profile's current version once (its calendar and language: one
# small SELECT, the parsed profile cached by digest), and with it the active data key's id (storage/crypto.py
# `active_key_columns`). An audit entry is one INSERT … SELECT of the chain's last hash. `concern new` also
# writes the new case's report facts when the unit of work commits: an INSERT per fact table that gets rows —
# the case was created in this unit of work, so its inputs are the objects written, nothing is read back.
# `case show` also reads where an advice contact became the case, its disclosures and how long its timeline is.
BOUNDS = {"concern new": 15, "case show": 17, "case list": 5, "agenda": 7}


@contextmanager
def counted(svc: Services) -> Iterator[list[str]]:
    statements: list[str] = []

    def note(_conn, _cursor, statement, _params, _context, _many) -> None:  # noqa: ANN001
        statements.append(" ".join(statement.split()))

    event.listen(svc.engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(svc.engine, "before_cursor_execute", note)


@pytest.mark.parametrize("name", list(BOUNDS))
def test_busy_commands_stay_within_their_statements(svc: Services, name: str) -> None:
    seed_admin(svc)
    ref = new_case(svc)
    text = {"concern new": SEVERITY_HIGH_CONCERN, "case show": f"case show {ref}", "case list": "case list",
            "agenda": "agenda"}[name]
    with counted(svc) as statements:
        reply = run(svc, ADMIN, text, request_id="T.1")
    assert reply.command == name.split()[0] or reply.command.startswith(name.split()[0])
    assert len(statements) <= BOUNDS[name], "\n".join(statements)
    if name == "case show":  # the subjects are read once, for their lines and for the offers' and engagements'
        assert sum(s.startswith("SELECT subject.") for s in statements) == 1


def test_a_request_id_is_acted_on_once_in_one_statement(svc: Services) -> None:
    seed_admin(svc)
    first = run(svc, ADMIN, "case list", request_id="T.2")
    with counted(svc) as statements:
        again = run(svc, ADMIN, "case list", request_id="T.2")
    assert first.ok and "No cases" in first.text
    assert "No cases" not in again.text  # the retry is recognised, not acted on
    assert sum("processedrequest" in s.lower() for s in statements) == 1
