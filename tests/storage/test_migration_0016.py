"""Migration 0016 (the timeline's last entry and last review kept on the case row): a database whose cases were
made, moved, decided on, taken over and erased, taken back to 0015 — the two columns gone — and upgraded:
the backfill from the events (plain SQL) gives every case the stamps the use cases had written."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect

from commands.context import Services
from storage.db import alembic_config
from tests.meetings.test_agenda_stamps import a_unit_at_work, from_events, stored

pytestmark = pytest.mark.procedures_off


def test_the_backfill_gives_the_stamps_the_use_cases_wrote(svc: Services, db_url: str, tmp_path: Path) -> None:
    a_unit_at_work(svc, tmp_path)
    before = stored(svc)
    assert before == from_events(svc)
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "0015")
    svc.engine.dispose()
    assert not {"last_event_at", "reviewed_at"} & {c["name"] for c in inspect(svc.engine).get_columns("cases")}
    command.upgrade(cfg, "head")
    svc.engine.dispose()
    assert stored(svc) == before
