"""Migration 0007 on a database that already has meeting series: each gets its S-N reference, SEQUENCE 0."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from storage.db import alembic_config


def test_existing_series_get_their_references_when_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0005")
    engine = create_engine(url)
    with engine.begin() as conn:
        for name in ("Torsdag", "Mandag"):
            conn.execute(text("INSERT INTO meetingseries (name, rrule, tz, dtstart, duration_min, holiday_policy, "
                              "channel, active, materialised_until, created_at) VALUES (:n, 'FREQ=WEEKLY;BYDAY=TH', "
                              "'Europe/Copenhagen', '2026-11-26 08:00:00', 90, 'skip', 'unit', 1, "
                              "'2027-03-01 08:00:00', '2026-11-23 09:00:00')"), {"n": name})
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, ref, sequence FROM meetingseries ORDER BY id")).all()
        assert conn.execute(text("SELECT count(*) FROM publication")).scalar() == 0
    assert [(r.ref, r.sequence) for r in rows] == [(f"S-{rows[0].id}", 0), (f"S-{rows[1].id}", 0)]
    command.downgrade(alembic_config(url), "0005")
    engine.dispose()
