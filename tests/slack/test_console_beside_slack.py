"""The console on a Slack deployment (`python -m bot console --as U…` on the server): members get the platform
their id names, and what the console causes reaches Slack — the console only shows a copy."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fake_slack import FakeSlack
from slack_http import ADMIN, SECRETARIAT_CHANNEL, UNIT_CHANNEL
from sqlmodel import select

from commands.context import Services
from storage.clock import FixedClock
from storage.db import unit_of_work
from storage.models import Member, OutboxMessage
from tests.conftest import ConsoleDriver
from tests.waiting import wait_until

CONCERN = ('concern new severity=high track=child age=15-17 source=school district=Nørrebro basis=rpl115 '
           'summary="Udtaler støtte til IS"')
TEAMS_USER = "0f8fad5b-d9cb-469f-a165-70867728950e"


async def say(svc: Services, user: str, *lines: str) -> str:
    """The console runs in a thread of its own, as in a terminal; its delivery pass talks to the fake Slack."""
    return await asyncio.to_thread(ConsoleDriver(svc).run, user, *lines)


def member(svc: Services, user_id: str) -> Member | None:
    with unit_of_work(svc.engine) as session:
        return session.exec(select(Member).where(Member.user_id == user_id)).first()


async def test_a_concern_registered_in_the_console_reaches_the_unit_channel_on_slack(
        slack_svc: Services, fake_slack: FakeSlack) -> None:
    out = await say(slack_svc, ADMIN, CONCERN)
    assert "Registered as KE-2026-0001" in out
    assert "┌─ channel #unit (copy — delivered by slack)\n│ New concern KE-2026-0001 · high · child" in out
    posts = await wait_until(lambda: fake_slack.posted(UNIT_CHANNEL), what="the unit channel post")
    assert "New concern KE-2026-0001" in str(posts[0])
    with unit_of_work(slack_svc.engine) as session:
        rows = list(session.exec(select(OutboxMessage)))
    assert [(r.state, (r.external_id or "").startswith("console-")) for r in rows] == [("sent", False)]
    assert member(slack_svc, ADMIN).platform == "slack"  # type: ignore[union-attr]  # ADMIN_USERS, by shape
    again = await say(slack_svc, ADMIN, "case list")
    assert "copy" not in again  # each copy once
    assert len(fake_slack.posted(UNIT_CHANNEL)) == 1


async def test_unit_add_with_a_slack_id_in_the_console_makes_a_slack_member_whose_reminder_reaches_slack(
        slack_svc: Services, fake_slack: FakeSlack, clock: FixedClock) -> None:
    out = await say(slack_svc, ADMIN, "unit add U0123ABCD role=member org=SOF", CONCERN)
    assert "@U0123ABCD is now member (SOF)." in out
    assert member(slack_svc, "U0123ABCD").platform == "slack"  # type: ignore[union-attr]
    await wait_until(lambda: fake_slack.posted("DU0123ABCD"), what="the welcome DM on Slack")
    await say(slack_svc, "U0123ABCD", 'followup add KE-2026-0001 due="2026-11-24 09:00" "Ring til skolen"')
    clock.instant = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)  # Tuesday 09:30 in Copenhagen: working hours
    out = await say(slack_svc, "U0123ABCD", "followup list")
    assert "┌─ DM to @U0123ABCD (copy — delivered by slack)" in out
    dms = await wait_until(lambda: [d for d in fake_slack.posted("DU0123ABCD") if "Ring til skolen" in str(d)],
                           what="the reminder DM on Slack")
    assert len(dms) == 1


async def test_an_id_of_no_platform_is_refused_on_a_slack_deployment(slack_svc: Services) -> None:
    out = await say(slack_svc, ADMIN, "unit add bob role=member org=SSP")
    assert "`bob` is neither a Slack member id (U… or W…) nor a Teams user id (GUID)" in out
    assert member(slack_svc, "bob") is None


async def test_dms_no_platform_can_deliver_tell_the_secretariat_once(
        slack_svc: Services, fake_slack: FakeSlack) -> None:
    out = await say(slack_svc, ADMIN, f"unit add {TEAMS_USER} role=member org=SSP", "unit members")
    assert member(slack_svc, TEAMS_USER).platform == "teams"  # type: ignore[union-attr]  # a GUID: Teams
    assert f"@{TEAMS_USER} · member · SSP · — · ⚠ unreachable (teams is not configured here)" in out
    notices = await wait_until(lambda: fake_slack.posted(SECRETARIAT_CHANNEL), what="the secretariat notice")
    assert f"Direct messages to <@{TEAMS_USER}> cannot be delivered" in str(notices[0])
    assert "coordination unit" not in str(notices[0])  # who, not what
    await say(slack_svc, ADMIN, f"unit add {TEAMS_USER} role=member org=SOF", "case list")
    await asyncio.sleep(0.2)
    assert len(fake_slack.posted(SECRETARIAT_CHANNEL)) == 1  # told once


async def test_the_first_console_user_of_a_slack_deployment_is_a_slack_member(
        slack_svc: Services, fake_slack: FakeSlack) -> None:
    out = await asyncio.to_thread(ConsoleDriver(slack_svc).run, "U0FIRST", "unit add U0SECOND role=member org=SSP",
                                  bootstrap=True)
    assert "Empty database: U0FIRST was created as admin." in out
    assert member(slack_svc, "U0FIRST").platform == "slack"  # type: ignore[union-attr]
    await wait_until(lambda: fake_slack.posted("DU0SECOND"), what="the welcome DM on Slack")
