"""Case references are gap-free, per year, and never reused — also under concurrent intake."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlmodel import select

from commands.reply import Invocation
from commands.router import dispatch
from storage.db import unit_of_work
from storage.models import Case, Member
from storage.sequences import next_value

CONCERN = ('concern new severity=normal track=adult age=25+ source=hotline district="Indre By" basis=consent '
           'summary="Bekymring fra hotline"')


def _admin(svc) -> None:
    with unit_of_work(svc.engine) as session:
        session.add(Member(user_id="U1", platform="console", role="admin", org="BIF", created_at=svc.clock.now()))


def test_counter_increments_per_name(svc):
    with unit_of_work(svc.engine) as session:
        assert [next_value(session, "case:2026") for _ in range(3)] == [1, 2, 3]
        assert next_value(session, "case:2027") == 1


def test_concurrent_intake_gets_distinct_consecutive_references(svc):
    _admin(svc)
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda _: dispatch(svc, Invocation("U1", CONCERN)), range(24)))
    assert all(r.ok for r in replies), [r.text for r in replies if not r.ok]
    with unit_of_work(svc.engine) as session:
        refs = sorted(session.exec(select(Case.ref)))
    assert refs == [f"KE-2026-{n:04d}" for n in range(1, 25)]


def test_reference_not_reused_after_failed_intake(svc):
    _admin(svc)
    assert dispatch(svc, Invocation("U1", CONCERN)).ok
    bad = dispatch(svc, Invocation("U1", CONCERN.replace("severity=normal", "severity=bogus")))
    assert not bad.ok
    assert "KE-2026-0002" in dispatch(svc, Invocation("U1", CONCERN)).text
