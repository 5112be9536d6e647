""""Steps on time (%)" per track: procedure steps done by their due time, from step facts derived in the
case's transaction (skipped steps not counted, open ones past due late, open ones not yet due pending);
the figures survive the case's erasure; migration 0011 back-fills the step facts from what is stored."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import MetaData, select, text

from commands.retention import erase
from storage.db import alembic_config
from tests.commands.cmdkit import ADMIN, add_member, ok, seed_admin
from tests.conftest import make_settings, make_svc

CPH = ZoneInfo("Europe/Copenhagen")


def at(svc, *args: int) -> None:
    svc.clock.instant = datetime(*args, tzinfo=CPH).astimezone(UTC)


@pytest.fixture
def unit(db_url, clock):
    svc = make_svc(make_settings(db_url, unit_profile="denmark-generic"), clock)
    seed_admin(svc)
    for user, role, org in (("U_SEC", "secretariat", "SEK"), ("U_SSP", "member", "SSP"),
                            ("U_SOC", "member", "SOC")):
        add_member(svc, user, role, org)
    yield svc
    svc.engine.dispose()


def _concern(svc, track: str, age: str) -> str:
    reply = ok(svc, "U_SOC", f"concern new severity=high track={track} age={age} source=social basis=rpl115 "
                             'summary="Udtaler støtte til voldelig ekstremisme"')
    return "KE-" + reply.text.split("KE-")[1][:9]


def walk(svc) -> dict[str, str]:
    """A child case in March 2026: steps 1, 4, 5 and 7 done in time, 2 done a day late, 3 left open past its
    due time (late), 6 skipped (not counted): 4 of 6 on time. An adult case received 30 November: its register
    checks are not yet due (pending)."""
    at(svc, 2026, 3, 2, 10, 0)  # Monday
    child = _concern(svc, "child", "15-17")
    ok(svc, "U_SEC", f"case qualify {child} level=pre_emptive")
    at(svc, 2026, 3, 2, 12, 0)
    ok(svc, "U_SEC", f"case refer {child} to=SOC owner=<@U_SOC>")
    at(svc, 2026, 3, 2, 13, 0)
    for n in (1, 4, 5):
        ok(svc, "U_SEC", f"case step {child} {n} done")
    at(svc, 2026, 3, 10, 10, 0)  # step 2 was due Monday 9 March 08:00
    ok(svc, "U_SSP", f"case step {child} 2 done")
    ok(svc, "U_SOC", f'case step {child} 6 skip reason="Skolen er allerede inddraget"')
    at(svc, 2026, 6, 1, 10, 0)  # step 7: 3 months after the referral, 2 June 08:00
    ok(svc, "U_SOC", f"case step {child} 7 done")
    at(svc, 2026, 6, 5, 10, 0)
    ok(svc, "U_SEC", f"case close {child} reason=normal_system force=yes")
    at(svc, 2026, 11, 30, 10, 0)
    adult = _concern(svc, "adult", "25+")
    ok(svc, "U_SEC", f"case qualify {adult}")
    at(svc, 2026, 11, 30, 15, 0)
    return {"child": child, "adult": adult}


def _steps_block(reply_text: str) -> list[str]:
    lines = reply_text.splitlines()
    start = lines.index("Procedure steps done on time (%), per track")
    return lines[start:]


def test_steps_on_time_per_track_in_report_kpi_and_the_annual_report(unit):
    walk(unit)
    kpi = ok(unit, "U_SEC", "report kpi year=2026")
    assert _steps_block(kpi.text) == ["Procedure steps done on time (%), per track",
                                      "  child: 4/6 = 66.7%", "  adult: 0/0 = –, 1 pending"]
    files = ok(unit, "U_SEC", "report annual year=2026 format=csv").attachments
    rows = [r for r in csv.reader(io.StringIO(files[0].data.decode())) if r[0].startswith("Procedure steps")]
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("child", "On time", "<5"), ("child", "Steps", "6"), ("child", "Share", "66.7%"), ("child", "Pending", "0"),
        ("adult", "On time", "0"), ("adult", "Steps", "0"), ("adult", "Share", "–"), ("adult", "Pending", "<5")]
    # the next morning the adult case's register checks are late (still open after 08:00)
    at(unit, 2026, 12, 1, 9, 0)
    assert _steps_block(ok(unit, "U_SEC", "report kpi year=2026").text)[2] == "  adult: 0/1 = 0.0%"


def test_no_checklists_no_steps_figure(svc):
    seed_admin(svc)
    assert "Procedure steps" not in ok(svc, ADMIN, "report kpi year=2026").text


def step_rows(svc) -> list[tuple]:
    meta = MetaData()
    with svc.engine.connect() as conn:
        meta.reflect(conn, only=("report_step",))
        table = meta.tables["report_step"]
        return sorted(tuple(str(v) for v in row) for row in conn.execute(
            select(*[c for c in table.columns if c.name != "id"])))


def test_erasure_leaves_last_year_s_steps_figures_as_they_were(unit):
    refs = walk(unit)
    at(unit, 2028, 6, 1, 9, 0)
    before = ok(unit, "U_SEC", "report kpi year=2026").text
    kept = step_rows(unit)
    at(unit, 2028, 6, 6, 9, 0)  # closed 5 June 2026 + 730 days
    assert erase.erase_due(unit, unit.clock.now()) == [refs["child"]]
    with unit.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM case_step")).scalar_one() == 3  # the adult case's only
    assert step_rows(unit) == kept
    assert ok(unit, "U_SEC", "report kpi year=2026").text == before
    assert "  child: 4/6 = 66.7%" in before


def test_migration_0011_back_fills_the_step_facts_and_downgrades(unit, db_url):
    walk(unit)
    derived = step_rows(unit)
    assert len(derived) == 7 + 3
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "0010")
    with unit.engine.connect() as conn:
        names = set(conn.dialect.get_table_names(conn))
    assert "report_step" not in names and "case_step" in names
    command.upgrade(cfg, "head")
    assert step_rows(unit) == derived
