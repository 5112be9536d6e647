"""The audit entry links itself to the chain's end in its own INSERT: writers running at once still make one
unbroken chain (PostgreSQL: the advisory lock; SQLite: BEGIN IMMEDIATE)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlmodel import Session, col, select

from storage import audit
from storage.db import unit_of_work
from storage.models import AuditEntry


def test_entries_written_at_once_make_one_chain(svc) -> None:
    def write(n: int) -> None:
        with unit_of_work(svc.engine) as session:
            entry = audit.record(session, clock=svc.clock, vault=svc.vault, actor=f"U{n}", action="test.write",
                                 detail={"n": n}, purpose="Kontrol" if n % 2 else None)
            assert entry.id is not None and entry.hash == audit.chain_digest(entry.prev_hash, entry.content_hash)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(24)))
    with Session(svc.engine) as session:
        report = audit.verify(session)
        hashes = list(session.exec(select(AuditEntry.prev_hash).order_by(col(AuditEntry.id))))
    assert report.ok and report.entries >= 24
    assert len(set(hashes)) == len(hashes)  # no two entries extend the same end
