"""Migration 0009 moves the audit chain to content digests: a chain written before it verifies after it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import Session

from storage import audit
from storage.db import alembic_config, make_engine, pg_schema
from tests.conftest import PG_URL


@pytest.fixture
def old_url(tmp_path: Path) -> Iterator[str]:
    if PG_URL:
        with pg_schema(PG_URL, "test_mig") as url:
            yield url
        return
    yield f"sqlite:///{tmp_path / 'old.db'}"


def _old_chain(url: str, count: int) -> None:
    """Entries as the code before 0009 wrote them: hash = sha256(prev_hash + content)."""
    engine = make_engine(url)
    prev = audit.GENESIS
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with engine.begin() as conn:
        for n in range(count):
            at = start + timedelta(minutes=n)
            row = {"at": at.isoformat(), "actor": "U_ADMIN", "action": "case.view", "case_ref": f"KE-2026-{n:04d}",
                   "result": "ok", "detail": json.dumps({"n": n}), "purpose": "ab" * 8 if n % 3 == 0 else None,
                   "purpose_kid": "k1" if n % 3 == 0 else None}
            digest = hashlib.sha256((prev + json.dumps(row, sort_keys=True, ensure_ascii=False)).encode()).hexdigest()
            conn.execute(text("INSERT INTO auditentry (at, actor, action, case_ref, result, detail, purpose_ct, "
                              "purpose_kid, prev_hash, hash) VALUES (:at, :actor, :action, :ref, :result, :detail, "
                              ":purpose, :kid, :prev, :hash)"),
                         {"at": at if not url.startswith("sqlite") else at.replace(tzinfo=None),
                          "actor": row["actor"], "action": row["action"], "ref": row["case_ref"],
                          "result": "ok", "detail": row["detail"],
                          "purpose": bytes.fromhex(row["purpose"]) if row["purpose"] else None,
                          "kid": row["purpose_kid"], "prev": prev, "hash": digest})
            prev = digest
    engine.dispose()


def test_a_chain_written_before_the_migration_verifies_after_it(old_url):
    cfg = alembic_config(old_url)
    command.upgrade(cfg, "0006")
    _old_chain(old_url, 25)
    engine = make_engine(old_url)
    with engine.connect() as conn:
        before = conn.execute(text("SELECT prev_hash, hash FROM auditentry ORDER BY id")).all()
    command.upgrade(cfg, "head")
    with Session(engine) as session:
        report = audit.verify(session)
    assert report.ok and report.entries == 25 and report.redacted == 0
    command.downgrade(cfg, "0006")  # and back: the old chain again, while nothing was redacted
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT prev_hash, hash FROM auditentry ORDER BY id")).all()
    assert rows == before
    engine.dispose()
