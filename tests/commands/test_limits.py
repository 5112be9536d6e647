"""Abuse limits, on a frozen clock: LOOKUP_LIMIT lookups a day per user (the secretariat hears at 80 %, once),
and COMMAND_RATE commands a minute per user (a polite answer, the first refusal of a minute audited)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from cmdkit import ADMIN, audit_entries, new_case, run, seed_admin, submit
from sqlmodel import Session, select

from commands.context import Services
from commands.members.limits import CommandRate
from commands.reply import Invocation, Reply
from storage.clock import FixedClock
from storage.models import OutboxMessage
from storage.settings import Settings
from tests.conftest import make_svc

CPR = "010203-4567"


@pytest.fixture
def limited(settings: Settings, clock: FixedClock) -> Iterator[Services]:
    svc = make_svc(settings.model_copy(update={"lookup_limit": 5, "command_rate": 3}), clock)
    seed_admin(svc)
    yield svc
    svc.engine.dispose()


def lookup(svc: Services) -> str:
    result = submit(svc, ADMIN, "concern.lookup", {"identifier": CPR, "purpose": "visitation"})
    assert result.reply is not None, result.errors
    return result.reply.text


def secretariat_posts(svc: Services) -> list[str]:
    with Session(svc.engine) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.target == "secretariat")).all()
        return [Reply.from_json(svc.vault.decrypt(session, r.payload_ct, r.payload_kid, "outbox.payload")).text
                for r in rows]


def test_lookups_stop_at_the_daily_limit_and_the_secretariat_hears_at_80_percent_once(
        limited: Services, clock: FixedClock) -> None:
    new_case(limited)
    for _ in range(3):
        assert "no cases" in lookup(limited)
    assert secretariat_posts(limited) == []
    lookup(limited)  # the 4th of 5: 80 %
    posts = secretariat_posts(limited)
    assert len(posts) == 1 and "4 of the 5" in posts[0] and ADMIN in posts[0]
    assert CPR not in posts[0] and "0102" not in posts[0]
    lookup(limited)  # the 5th: still allowed, no second notice today
    assert len(secretariat_posts(limited)) == 1

    refused = lookup(limited)
    assert "limit of 5 lookups today" in refused
    form = run(limited, ADMIN, "concern lookup")
    assert not form.ok and form.form is None and "limit of 5" in form.text
    denied = [e for e in audit_entries(limited) if e.action == "access.denied"]
    assert [json.loads(e.detail)["reason"] for e in denied] == ["lookup_limit", "lookup_limit"]
    assert sum(e.action == "concern.lookup" for e in audit_entries(limited)) == 5

    clock.advance(hours=15)  # 09:00 UTC Monday → 01:00 Copenhagen on Tuesday: a new day
    assert "no cases" in lookup(limited)


def test_the_command_rate_slows_a_user_down_politely_and_audits_the_first_refusal(
        limited: Services, clock: FixedClock) -> None:
    import asyncio

    from bot.runtime import Runtime

    class Direct(Runtime):
        def __init__(self, svc: Services) -> None:
            self.svc, self.kick = svc, lambda: None

        async def run(self, fn, *args):  # noqa: ANN001, ANN202
            return fn(self.svc, *args)

    rt = Direct(limited)
    inv = Invocation(user_id=ADMIN, text="case list", platform="console")
    answers = [asyncio.run(rt.too_fast(inv)) for _ in range(5)]
    assert answers[:3] == [None, None, None]
    assert all(a is not None and not a.ok and "faster than 3 a minute" in a.text for a in answers[3:])
    assert [e.action for e in audit_entries(limited)].count("limit.command_rate") == 1
    assert asyncio.run(rt.too_fast(Invocation(user_id="UOTHER", text="case list"))) is None  # per user
    clock.advance(seconds=61)
    assert asyncio.run(rt.too_fast(inv)) is None


def test_command_rate_window_slides() -> None:
    from datetime import UTC, datetime, timedelta

    rate, t0 = CommandRate(2), datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert rate.allow("u", t0) and rate.allow("u", t0 + timedelta(seconds=30))
    assert not rate.allow("u", t0 + timedelta(seconds=59))
    assert rate.allow("u", t0 + timedelta(seconds=60))  # the first has left the window
    assert not rate.allow("u", t0 + timedelta(seconds=61))
