"""Migration 0012 (cases taken over, advice contacts) on a database full of last turn's cases: every row of
every table is as it was, the new columns are empty (a case koordinator received itself), the new tables
empty; and the reports say the same. On SQLite and PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

from datetime import date

from alembic import command
from sqlalchemy import inspect, text

from commands.reports import kpi
from storage.db import alembic_config, make_engine, unit_of_work
from tests.commands.cmdkit import ADMIN, SEVERITY_HIGH_CONCERN, add_member, new_case, ok, seed_admin

NEW_TABLES = {"advice_contact", "report_contact", "report_takeover"}
NEW_COLUMNS = {("cases", "taken_over_at"), ("cases", "import_key")}


def _snapshot(url: str) -> dict[str, list[tuple]]:
    engine = make_engine(url)
    try:
        inspector = inspect(engine)
        names = [n for n in inspector.get_table_names() if n not in NEW_TABLES | {"alembic_version"}]
        columns = {n: [c["name"] for c in inspector.get_columns(n) if (n, c["name"]) not in NEW_COLUMNS]
                   for n in names}
        out = {}
        with engine.connect() as conn:
            for name in sorted(names):
                cols = columns[name]
                quoted = ", ".join(f'"{c}"' for c in cols)
                out[name] = sorted(conn.execute(text(f'SELECT {quoted} FROM "{name}"')).all(), key=repr)
        return out
    finally:
        engine.dispose()


def test_0012_upgrades_a_database_of_last_turns_cases_without_changing_them(svc, db_url):
    seed_admin(svc)
    add_member(svc, "U_SOF", "member", "SOF")
    refs = [new_case(svc) for _ in range(3)]
    ok(svc, ADMIN, f"case qualify {refs[0]} level=preventive")
    ok(svc, ADMIN, f"case refer {refs[0]} to=SOF owner=<@U_SOF>")
    ok(svc, ADMIN, f"case close {refs[1]} reason=unfounded")
    ok(svc, ADMIN, SEVERITY_HIGH_CONCERN.replace("severity=high", "severity=critical"))
    with unit_of_work(svc.engine) as session:
        before_kpis = kpi.compute(session, date(2026, 1, 1), date(2026, 12, 31), svc.clock.now(), svc.calendar().tz)
    svc.engine.dispose()
    command.downgrade(alembic_config(db_url), "0011")  # last turn's schema, last turn's rows
    last_turn = _snapshot(db_url)
    assert len(last_turn["cases"]) == 4 and last_turn["report_case"]
    command.upgrade(alembic_config(db_url), "0012")
    assert _snapshot(db_url) == last_turn
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM cases WHERE taken_over_at IS NOT NULL "
                                 "OR import_key IS NOT NULL")).scalar() == 0
        for table in NEW_TABLES:
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0
    engine.dispose()
    command.upgrade(alembic_config(db_url), "head")
    with unit_of_work(svc.engine) as session:
        after = kpi.compute(session, date(2026, 1, 1), date(2026, 12, 31), svc.clock.now(), svc.calendar().tz)
    assert (after.concerns, after.open_now, after.taken_over, after.advice) == \
        (before_kpis.concerns, before_kpis.open_now, 0, 0)
    assert after.ratios["visitation"] == before_kpis.ratios["visitation"]
    ok(svc, ADMIN, f"case show {refs[0]}")  # the upgraded database serves as before
