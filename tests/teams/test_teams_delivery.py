"""The Teams outbox sender: reminders reach the 1:1 chat through stored conversation references, nothing
is lost while the connector is down, nothing is sent twice, order is kept per target."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select
from teams_fakes import OUTGOING_TOKEN, FakeConnector, FakeOpenId
from teams_kit import (
    ADMIN,
    TENANT,
    UNIT_CHANNEL,
    TeamsServer,
    action,
    actions,
    card_of,
    cloud_for,
    text_of,
    user,
    wait_until,
)

from bot.teams.connector import Connector, build_app
from bot.teams.delivery import deliver_pending
from commands.context import Services
from commands.reply import Invocation
from commands.router import dispatch
from scheduler.jobs.followups import sweep
from storage import outbox
from storage import teams as refs
from storage.db import unit_of_work
from storage.models import FollowUp, OutboxMessage

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::Warning:microsoft_teams")
BO = user(0xB0, "Bo Berg")
REF = re.compile(r"KE-\d{4}-\d{4}")
CONCERN = ('concern new severity=high track=child age=15-17 source=school district=Valby basis=rpl115 '
           'summary="Bekymring"')


def rows(svc: Services) -> list[OutboxMessage]:
    with Session(svc.engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def refs_in(posted: list[dict[str, Any]]) -> list[str]:
    return [REF.findall(text_of(card_of(a)))[0] for a in posted]


def run(svc: Services, text: str, who: str = ADMIN.aad) -> None:
    reply = dispatch(svc, Invocation(user_id=who, text=text, platform="teams"))
    assert reply.ok, reply.text


def connector_for(svc: Services, openid: FakeOpenId) -> Connector:
    return Connector(build_app(svc.settings, cloud=cloud_for(openid), token=lambda *_: OUTGOING_TOKEN))


def reach_unit_channel(svc: Services, connector: FakeConnector) -> None:
    refs.remember(svc.engine, refs.Seen(refs.CHANNEL, UNIT_CHANNEL, connector.url, TENANT,
                                        conversation_id=UNIT_CHANNEL), svc.clock.now())


async def settle() -> None:
    await asyncio.sleep(0.3)  # several dispatcher passes at a 50 ms interval


async def test_a_reminder_dm_goes_through_the_stored_reference_and_done_updates_it_in_place(
        teams: TeamsServer, connector: FakeConnector, clock: Any) -> None:
    await teams.say(ADMIN, f"unit add {BO.aad} role=member org=SOF")
    # Bo has never talked to the bot: his welcome waits for a conversation reference …
    welcome = await wait_until(lambda: [r for r in rows(teams.svc) if r.error == refs.NO_REFERENCE],
                               what="welcome held back")
    assert welcome[0].target == BO.aad and welcome[0].state == "pending"
    # … which his installing the app provides (and the welcome goes at once, without waiting for its backoff)
    install = teams.activity(BO, kind="installationUpdate", action="add")
    assert (await teams.post(install)).status_code == 200
    assert "not a member" not in text_of(card_of(connector.posted(BO.chat)[0]))  # his home card
    await wait_until(lambda: len(connector.posted(BO.chat)) == 2, what="welcome delivered")
    assert "You have been added to the coordination unit" in text_of(card_of(connector.posted(BO.chat)[1]))

    await teams.say(BO, CONCERN)
    await teams.say(BO, 'followup add KE-2026-0001 due="2026-11-24 09:00" "Ring til skolen"')
    clock.instant = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # 09:00 in Copenhagen, a working day
    assert sweep(teams.svc, clock.now()).reminded == 1
    posted = await wait_until(lambda: [a for a in connector.posted(BO.chat) if actions(card_of(a))
                                       and "Follow-up on" in text_of(card_of(a))], what="reminder DM")
    reminder = card_of(posted[0])
    assert [a["title"] for a in actions(reminder)] == ["Done", "Snooze 1 day", "Snooze 1 week", "Open case"]
    assert "Ring til skolen" in text_of(reminder)
    reminder_row = await wait_until(lambda: [r for r in rows(teams.svc) if r.target == BO.aad
                                             and r.state == "sent"][1:], what="reminder marked sent")
    reminder_row = reminder_row[-1]
    assert reminder_row.external_id == next(c.activity_id for c in connector.calls if c.body is posted[0])

    answer = await teams.click(BO, action(reminder, "Done"))
    assert answer["type"] == "application/vnd.microsoft.activity.message" and "F-2" in answer["value"]
    updates = await wait_until(lambda: connector.updated(BO.chat), what="reminder updated in place")
    assert updates[0].activity_id == reminder_row.external_id
    assert "done" in text_of(card_of(updates[0].body)) and not actions(card_of(updates[0].body))
    with Session(teams.svc.engine) as session:
        assert session.get(FollowUp, 2).state == "done"  # type: ignore[union-attr]


async def test_connector_down_then_back_delivers_every_notice_once_in_order(
        teams: TeamsServer, connector: FakeConnector, clock: Any) -> None:
    await teams.say(ADMIN, "help", channel=UNIT_CHANNEL)  # the bot knows the channel
    connector.fail_next(3, status=500, conversation=UNIT_CHANNEL)
    for _ in range(3):
        await teams.say(ADMIN, CONCERN)
    await wait_until(lambda: connector.failed(UNIT_CHANNEL) == 1, what="first failed post")
    for attempt in range(2, 4):
        await settle()
        assert not connector.posted(UNIT_CHANNEL) and connector.failed(UNIT_CHANNEL) == attempt - 1
        clock.advance(seconds=10)  # past the exponential backoff (1 s, 2 s, …)
        await wait_until(lambda n=attempt: connector.failed(UNIT_CHANNEL) == n, what=f"failed attempt {attempt}")
    clock.advance(seconds=10)
    await wait_until(lambda: len(connector.posted(UNIT_CHANNEL)) == 3, what="all notices")
    await settle()
    assert refs_in(connector.posted(UNIT_CHANNEL)) == ["KE-2026-0001", "KE-2026-0002", "KE-2026-0003"]
    unit = [r for r in rows(teams.svc) if r.target == "unit"]
    assert [r.attempts for r in unit] == [3, 0, 0] and all(r.state == "sent" and r.external_id for r in unit)


async def test_a_rate_limit_is_honoured_with_retry_after(teams: TeamsServer, connector: FakeConnector,
                                                         clock: Any) -> None:
    await teams.say(ADMIN, "help", channel=UNIT_CHANNEL)
    connector.fail_next(1, status=429, retry_after=30, conversation=UNIT_CHANNEL)
    await teams.say(ADMIN, CONCERN)
    await teams.say(ADMIN, CONCERN)
    row = (await wait_until(lambda: [r for r in rows(teams.svc) if r.attempts == 1], what="retry scheduled"))[0]
    assert row.next_attempt_at == clock.now() + timedelta(seconds=30) and row.error == "HTTP 429"
    clock.advance(seconds=29)
    await settle()
    assert not connector.posted(UNIT_CHANNEL)
    clock.advance(seconds=1)
    await wait_until(lambda: len(connector.posted(UNIT_CHANNEL)) == 2, what="both notices")
    assert refs_in(connector.posted(UNIT_CHANNEL)) == ["KE-2026-0001", "KE-2026-0002"]


async def test_two_dispatchers_at_once_send_each_message_exactly_once(
        teams_svc: Services, connector: FakeConnector, openid: FakeOpenId) -> None:
    reach_unit_channel(teams_svc, connector)
    for _ in range(6):
        run(teams_svc, CONCERN)
    sent = await asyncio.gather(*(deliver_pending(teams_svc, connector_for(teams_svc, openid)) for _ in range(3)))
    assert sum(sent) == 6
    assert refs_in(connector.posted(UNIT_CHANNEL)) == [f"KE-2026-000{n}" for n in range(1, 7)]
    assert all(c.authorization == f"Bearer {OUTGOING_TOKEN}" for c in connector.calls)


async def test_a_row_claimed_by_a_worker_that_died_is_resent_only_after_the_claim_goes_stale(
        teams_svc: Services, connector: FakeConnector, openid: FakeOpenId, clock: Any,
        caplog: pytest.LogCaptureFixture) -> None:
    reach_unit_channel(teams_svc, connector)
    run(teams_svc, CONCERN)
    with unit_of_work(teams_svc.engine) as session:  # a claim committed by a worker that then died
        assert outbox.claim(session, rows(teams_svc)[0].id, clock.now())  # type: ignore[arg-type]
    sender = connector_for(teams_svc, openid)
    assert await deliver_pending(teams_svc, sender) == 0
    clock.advance(minutes=6)
    with caplog.at_level(logging.WARNING, logger="bot.teams.delivery"):
        assert await deliver_pending(teams_svc, sender) == 1
    assert "reclaimed after a stale claim" in caplog.text


async def test_with_slack_configured_channel_posts_are_left_to_slack(
        teams_svc: Services, connector: FakeConnector, openid: FakeOpenId) -> None:
    reach_unit_channel(teams_svc, connector)
    refs.remember(teams_svc.engine, refs.Seen(refs.USER, BO.aad, connector.url, TENANT, conversation_id=BO.chat),
                  teams_svc.clock.now())
    run(teams_svc, f"unit add {BO.aad} role=member org=SSP")
    run(teams_svc, CONCERN)
    run(teams_svc, "unit add U0SLACK01 role=member org=VINK")  # a Slack member's welcome is not ours either
    teams_svc.settings = teams_svc.settings.model_copy(update={
        "slack_bot_token": "xoxb-test", "slack_signing_secret": "s"})
    assert await deliver_pending(teams_svc, connector_for(teams_svc, openid)) == 1
    assert len(connector.posted(BO.chat)) == 1 and not connector.posted(UNIT_CHANNEL)
    assert {(r.target, r.state) for r in rows(teams_svc)} == {(BO.aad, "sent"), ("unit", "pending"),
                                                              ("U0SLACK01", "pending")}
