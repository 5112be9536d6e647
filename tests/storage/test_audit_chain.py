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


def test_the_entry_joins_the_chain_last_so_its_lock_is_held_only_for_the_insert_and_the_commit(svc) -> None:
    """A use case that audits early and works on: the chain's lock (PostgreSQL) and the entry's INSERT come after
    everything else the unit of work sends — after its other consequences too —, just before the commit."""
    from sqlalchemy import event, text

    from storage.db import then

    statements: list[str] = []
    listener = lambda *a: statements.append(a[2].split()[0].upper() + " " + a[2])  # noqa: E731
    event.listen(svc.engine, "before_cursor_execute", listener)
    try:
        with unit_of_work(svc.engine) as session:
            audit.record(session, clock=svc.clock, vault=svc.vault, actor="U1", action="case.show", case_ref="KE-1")
            audit.record(session, clock=svc.clock, vault=svc.vault, actor="U1", action="case.show", case_ref="KE-2")
            session.exec(text("SELECT 1 AS use_case_work"))
            then(session, "facts", lambda s, _items: s.exec(text("SELECT 2 AS a_consequence")), None)
    finally:
        event.remove(svc.engine, "before_cursor_execute", listener)
    work = [n for n, s in enumerate(statements) if "use_case_work" in s or "a_consequence" in s]
    chain = [n for n, s in enumerate(statements) if "audit" in s.lower() or "advisory" in s]
    assert work and chain and max(work) < min(chain), statements
    with Session(svc.engine) as session:
        refs = list(session.exec(select(AuditEntry.case_ref).order_by(col(AuditEntry.id))))
        assert refs[-2:] == ["KE-1", "KE-2"] and audit.verify(session).ok
