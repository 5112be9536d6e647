"""The anonymous fact store: no reference, pseudonym, user id or free text; derived in the same transaction as
the change (a rolled-back change leaves no fact); and back-filled by its migration from what was stored."""

from __future__ import annotations

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import MetaData, select, text
from sqlmodel import col
from sqlmodel import select as sm_select
from yearkit import ADMIN, SECRETARY, Year

from commands.reply import Invocation
from commands.router import dispatch
from storage.db import alembic_config, unit_of_work
from storage.models import AuditEntry, Member

# Written before work procedures: its cases close without ticking checklist steps (or it counts reminders
# and agenda items that steps would add); procedures have their own tests (tests/profile/test_steps.py).
pytestmark = pytest.mark.procedures_off

FACT_TABLES = ("report_case", "report_subject", "report_offer", "report_engagement")


def fact_rows(svc) -> dict[str, list[tuple]]:
    meta = MetaData()
    out = {}
    with svc.engine.connect() as conn:
        meta.reflect(conn, only=FACT_TABLES)
        for name in FACT_TABLES:
            table = meta.tables[name]
            columns = [c for c in table.columns if c.name not in ("id", "fact_key")]
            out[name] = sorted(tuple(str(v) for v in row) for row in conn.execute(select(*columns)))
    return out


def test_facts_hold_no_reference_pseudonym_user_or_free_text(svc, clock) -> None:
    year = Year(svc, clock).build()
    dumped = repr(fact_rows(svc))
    assert "KE-20" not in dumped
    for p in year.pseudonym.values():
        assert p not in dumped
    for user in (ADMIN, SECRETARY, "U_"):
        assert user not in dumped
    assert "Bekymring" not in dumped
    with svc.engine.connect() as conn:
        keys = {r[0] for r in conn.execute(text("SELECT fact_key FROM report_case"))}
    assert len(keys) == 24 and not any(k.startswith("KE") for k in keys)


def test_a_refused_change_leaves_the_facts_as_they_were(svc, clock) -> None:
    year = Year(svc, clock).build()
    before = fact_rows(svc)
    reply = dispatch(svc, Invocation(user_id=ADMIN, text=f"case close {year.refs['C3']} reason=nonsense",
                                     platform="console"))
    assert not reply.ok
    assert fact_rows(svc) == before

    def open_cases() -> int:
        with svc.engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM report_case WHERE closed_on IS NULL")).scalar_one()

    was_open = open_cases()
    reply = dispatch(svc, Invocation(user_id=ADMIN, text=f"case reopen {year.refs['C5']}", platform="console"))
    assert reply.ok  # a real change, in the same transaction: C5 counts as open again
    assert open_cases() == was_open + 1


def test_the_migration_back_fills_the_facts_from_what_is_stored(svc, clock, db_url) -> None:
    Year(svc, clock).build()
    derived = fact_rows(svc)
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "0005")  # as before the fact store: cases, offers, events … and no facts
    command.upgrade(cfg, "head")
    # going back past 0013 dropped the courses' results: the back-filled facts carry none (counted as
    # completed, as before results existed); everything else is derived again exactly
    derived["report_engagement"] = sorted(row[:-1] + ("None",) for row in derived["report_engagement"])
    assert fact_rows(svc) == derived


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(year=st.text(max_size=12), start=st.text(max_size=12), fmt=st.text(max_size=8),
       which=st.sampled_from(["kpi", "annual"]))
def test_any_report_arguments_get_an_answer_never_a_crash(svc, which: str, year: str, start: str, fmt: str) -> None:
    with unit_of_work(svc.engine) as session:
        if session.get(Member, 1) is None:
            session.add(Member(user_id=SECRETARY, platform="console", role="secretariat", org="BIF",
                               created_at=svc.clock.now()))
    quoted = [f'{k}="{v}"' for k, v in (("year", year), ("from", start), ("format", fmt)) if v and '"' not in v]
    reply = dispatch(svc, Invocation(user_id=SECRETARY, text=f"report {which} " + " ".join(quoted),
                                     platform="console"))
    assert "Something went wrong" not in reply.text and "Traceback" not in reply.text
    with unit_of_work(svc.engine) as session:
        audited = session.exec(sm_select(AuditEntry).where(col(AuditEntry.action).like("report.%"))).all()
    assert all(a.result == "ok" for a in audited)


def test_the_facts_written_as_a_difference_are_the_facts_derived_whole(svc, clock) -> None:
    """Every command wrote only what changed; the result is what deriving every case from scratch gives, and
    deriving again when nothing changed writes nothing."""
    from zoneinfo import ZoneInfo

    from sqlalchemy import event

    from commands.reports import facts
    from storage.models import Case

    Year(svc, clock).build()
    as_written = fact_rows(svc)
    tz = ZoneInfo("Europe/Copenhagen")
    with unit_of_work(svc.engine) as session:
        ids = list(session.exec(sm_select(Case.id)).all())
        written: list[str] = []

        def note(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
            written.append(statement.split()[0].upper())

        event.listen(svc.engine, "before_cursor_execute", note)
        try:
            facts.refresh(session, ids, tz)
        finally:
            event.remove(svc.engine, "before_cursor_execute", note)
    assert written and set(written) <= {"BEGIN", "SELECT"}  # read, compared, nothing written
    with unit_of_work(svc.engine) as session:
        for table in (*FACT_TABLES, "report_step"):
            session.exec(text(f"DELETE FROM {table}"))  # type: ignore[call-overload]
        facts.refresh(session, ids, tz)
    assert fact_rows(svc) == as_written


def test_a_new_cases_facts_from_the_objects_written_are_the_facts_read_back(svc, clock) -> None:
    """`/concern new` derives the new case's facts from what its unit of work wrote, reading nothing back; they
    are exactly what deriving the case from the stored rows gives."""
    from zoneinfo import ZoneInfo

    from commands.reports import facts
    from storage.models import Case

    with unit_of_work(svc.engine) as session:
        session.add(Member(user_id=ADMIN, platform="console", role="admin", org="BIF", display_name=ADMIN,
                           created_at=clock.now()))
    for age in ("15-17", "18-24"):
        reply = dispatch(svc, Invocation(ADMIN, f"concern new severity=high track=child age={age} source=school "
                                                'district=Valby basis=rpl115 summary="Bekymring fra skolen"'))
        assert reply.ok, reply.text
    as_written = fact_rows(svc)
    assert len(as_written["report_case"]) == 2 and len(as_written["report_subject"]) == 2
    with unit_of_work(svc.engine) as session:
        ids = list(session.exec(sm_select(Case.id)).all())
        for table in (*FACT_TABLES, "report_step"):
            session.exec(text(f"DELETE FROM {table}"))  # type: ignore[call-overload]
        facts.refresh(session, ids, ZoneInfo("Europe/Copenhagen"))
    assert fact_rows(svc) == as_written
