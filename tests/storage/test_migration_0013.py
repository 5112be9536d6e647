"""Migration 0013 (families) on a database full of last turn's cases: a year of a unit (tests/reports/yearkit.py)
and the seed's family, taken back to 0011 — the schema of last turn, the new columns and the disclosure log
gone — then upgraded: every case reads as it did (each person carries the case's track, authority, owner and
referral), the reports give the same figures, the audit chain verifies. A course ended before results existed
shows none and counts as completed, as it did."""

from __future__ import annotations

import re

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import select

from commands.reply import Invocation
from commands.router import dispatch
from storage.db import alembic_config, unit_of_work
from storage.models import Case, Subject
from tests.reports.yearkit import ADMIN, Year
from tests.scenario import family

pytestmark = pytest.mark.procedures_off  # a year of cases closed without ticking their steps


def _views(svc, refs: list[str]) -> dict[str, str]:
    out = {}
    for ref in refs:
        reply = dispatch(svc, Invocation(user_id=ADMIN, text=f"case show {ref}", platform="console"))
        assert reply.ok, reply.text
        # what last turn could not hold is left out: the disclosure log (new) and courses' results (dropped by
        # the downgrade)
        shown = "\n".join(f"{f.label}: {f.value}" for f in reply.fields if f.label != "Disclosed")
        out[ref] = re.sub(r" · (completed|dropped out|moved away|other)$", "", shown, flags=re.M)
    for name in ("report kpi year=2026", "report annual year=2026 format=csv"):
        reply = dispatch(svc, Invocation(user_id=ADMIN, text=name, platform="console"))
        out[name] = reply.text + "".join(a.data.decode("utf-8", "replace") for a in reply.attachments)
    return out


def test_last_turns_cases_read_the_same_after_the_upgrade(svc, clock, db_url) -> None:
    Year(svc, clock).build()
    with unit_of_work(svc.engine) as session:
        refs = [c.ref for c in session.exec(select(Case).order_by(Case.ref))]
    before = _views(svc, refs)
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "0011")  # last turn's schema: no persons' own columns, no results, no disclosures
    with svc.engine.connect() as conn:
        columns = {r[1] for r in conn.execute(text("PRAGMA table_info(subject)"))} if db_url.startswith("sqlite") \
            else set(conn.execute(text("SELECT column_name FROM information_schema.columns "
                                       "WHERE table_name = 'subject' AND table_schema = current_schema()")).scalars())
        assert "track" not in columns and "relation" not in columns
    command.upgrade(cfg, "head")
    svc.engine.dispose()
    after = _views(svc, refs)
    for key in before:
        if key.startswith("report annual"):  # made at a new instant: the header's timestamp differs
            assert _without_made(after[key]) == _without_made(before[key]), key
        else:
            assert after[key] == before[key], key
    with unit_of_work(svc.engine) as session:
        for subject, case in session.exec(select(Subject, Case).join(Case, Case.id == Subject.case_id)):
            assert (subject.track, subject.responsible_org, subject.owner_id) == \
                (case.track, case.responsible_org, case.owner_id)
            assert (subject.referred_at is None) == (case.referred_at is None)
    reply = dispatch(svc, Invocation(user_id=ADMIN, text="unit audit verify", platform="console"))
    assert reply.ok and "intact" in reply.text


def _without_made(text_: str) -> str:
    """The report without its timestamp and without the courses' results (new in 0013: a downgrade drops them)."""
    lines = [line for line in text_.splitlines() if not line.startswith("Ended 1-1 courses by result")]
    return re.sub(r"\d{1,2} \w{3} \d{4}, \d{2}:\d{2}", "…", "\n".join(lines))


def test_a_family_made_now_survives_a_round_trip_of_the_migration(db_url) -> None:
    state, _printed = family.run_console(db_url)
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "0011")
    command.upgrade(cfg, "head")
    from storage.clock import FixedClock
    from tests.conftest import make_settings, make_svc
    from tests.scenario.seed import START

    svc = make_svc(make_settings(db_url), FixedClock(START))
    again = family.snapshot(svc, {n: n for n in ("admin", "sof", "ssp", "coach", "mentor_son", "mentor_girl",
                                                  "bif", "police", "vink", "krim", "ekp")})
    svc.engine.dispose()
    # a downgrade forgets what 0013 added; the upgrade gives each person the case's values again
    assert [p[:3] for p in again["persons"]] == [(p[0], p[1], "adult") for p in state["persons"]]
    assert again["disclosures"] == [] and again["case"] == state["case"]
