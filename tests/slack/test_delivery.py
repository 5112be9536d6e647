"""The Slack outbox sender: nothing lost while Slack is down, nothing sent twice, order kept per target."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from fake_slack import FakeSlack
from slack_http import UNIT_CHANNEL, AppServer, wait_until
from sqlmodel import Session, col, select
from test_slash_commands import CONCERN, reply_to

from bot.slack.clients import delivery_client
from bot.slack.delivery import deliver_pending
from commands.context import Services
from commands.reply import Attachment, Invocation, Reply
from commands.router import dispatch
from storage import outbox
from storage.db import unit_of_work
from storage.models import Member, OutboxMessage
from storage.settings import Settings
from tests.conftest import make_svc

REF = re.compile(r"KE-\d{4}-\d{4}")


def refs(messages: list[dict[str, Any]]) -> list[str]:
    return [REF.findall(m["text"])[0] for m in messages]


def rows(svc: Services) -> list[OutboxMessage]:
    with Session(svc.engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def run(svc: Services, text: str, user: str = "UADMIN") -> Reply:
    return dispatch(svc, Invocation(user_id=user, text=text, platform="slack"))


def failed_calls(fake: FakeSlack) -> int:
    return sum(1 for c in fake.calls_to("chat.postMessage") if c.status != 200)


async def settle() -> None:
    await asyncio.sleep(0.3)  # several dispatcher passes at a 50 ms interval


async def test_slack_down_then_back_delivers_every_message_once_in_order(
        server: AppServer, fake_slack: FakeSlack, clock: Any) -> None:
    fake_slack.fail_next(3, status=500, channel=UNIT_CHANNEL)
    for n in range(3):
        await server.slash("/concern", CONCERN, response_key=f"c{n}")
        await reply_to(fake_slack, f"c{n}")
    await server.slash("/unit", "add <@UANN> role=member org=SSP", response_key="add")
    await wait_until(lambda: failed_calls(fake_slack) == 1, what="first failed post")
    # Another target is not held up by the unit channel's trouble.
    await wait_until(lambda: fake_slack.posted("DUANN"), what="welcome DM")
    for attempt in range(2, 4):
        await settle()
        assert not fake_slack.posted(UNIT_CHANNEL) and failed_calls(fake_slack) == attempt - 1
        clock.advance(seconds=10)  # past the exponential backoff (1 s, 2 s, …)
        await wait_until(lambda n=attempt: failed_calls(fake_slack) == n, what=f"failed attempt {attempt}")
    clock.advance(seconds=10)
    await wait_until(lambda: len(fake_slack.posted(UNIT_CHANNEL)) == 3, what="all notices")
    await settle()
    assert refs(fake_slack.posted(UNIT_CHANNEL)) == ["KE-2026-0001", "KE-2026-0002", "KE-2026-0003"]
    sent = rows(server.svc)
    assert all(r.state == "sent" and r.external_id for r in sent)
    assert [r.attempts for r in sent if r.target == "unit"] == [3, 0, 0]


async def test_a_rate_limit_is_honoured_with_retry_after(server: AppServer, fake_slack: FakeSlack,
                                                         clock: Any) -> None:
    fake_slack.fail_next(1, status=429, retry_after=30, channel=UNIT_CHANNEL)
    for key in ("c1", "c2"):
        await server.slash("/concern", CONCERN, response_key=key)
        await reply_to(fake_slack, key)
    row = await wait_until(lambda: [r for r in rows(server.svc) if r.attempts == 1], what="retry scheduled")
    row = row[0]
    assert row.next_attempt_at == clock.now() + timedelta(seconds=30) and row.error == "429 ratelimited"
    clock.advance(seconds=29)
    await settle()
    assert not fake_slack.posted(UNIT_CHANNEL)
    clock.advance(seconds=1)
    await wait_until(lambda: len(fake_slack.posted(UNIT_CHANNEL)) == 2, what="both notices")
    assert refs(fake_slack.posted(UNIT_CHANNEL)) == ["KE-2026-0001", "KE-2026-0002"]


async def test_a_fresh_server_delivers_what_an_earlier_one_could_not(slack_svc: Services, fake_slack: FakeSlack,
                                                                    clock: Any) -> None:
    fake_slack.fail_next(1000, status=503, channel=UNIT_CHANNEL)
    async with AppServer(slack_svc, fake_slack) as first:
        await first.slash("/concern", CONCERN)
        await wait_until(lambda: failed_calls(fake_slack) >= 1, what="a failed attempt")
    assert rows(slack_svc)[0].state == "pending"
    fake_slack.failures.clear()
    run(slack_svc, CONCERN.replace("new ", "concern new ", 1))  # queued while no server runs at all
    clock.advance(minutes=10)
    async with AppServer(slack_svc, fake_slack):
        await wait_until(lambda: len(fake_slack.posted(UNIT_CHANNEL)) == 2, what="delivery after restart")
        await settle()
    assert refs(fake_slack.posted(UNIT_CHANNEL)) == ["KE-2026-0001", "KE-2026-0002"]


async def test_a_row_claimed_by_a_worker_that_died_is_resent_only_after_the_claim_goes_stale(
        slack_svc: Services, fake_slack: FakeSlack, clock: Any, caplog: pytest.LogCaptureFixture) -> None:
    run(slack_svc, CONCERN.replace("new ", "concern new ", 1))
    with unit_of_work(slack_svc.engine) as session:
        assert outbox.claim(session, rows(slack_svc)[0].id, clock.now())  # type: ignore[arg-type]
    client = delivery_client(slack_svc.settings)
    assert await deliver_pending(slack_svc, client) == 0
    clock.advance(minutes=6)
    with caplog.at_level(logging.WARNING, logger="bot.slack.delivery"):
        assert await deliver_pending(slack_svc, client) == 1
    assert "reclaimed after a stale claim" in caplog.text


async def test_two_dispatchers_at_once_send_each_message_once(slack_svc: Services, fake_slack: FakeSlack) -> None:
    for _ in range(6):
        run(slack_svc, CONCERN.replace("new ", "concern new ", 1))
    a, b = delivery_client(slack_svc.settings), delivery_client(slack_svc.settings)
    counts = await asyncio.gather(deliver_pending(slack_svc, a), deliver_pending(slack_svc, b))
    while sum(counts) < 6:  # a pass that lost a race leaves the rest of that target to the next pass
        counts = [*counts, await deliver_pending(slack_svc, a)]
    posted = refs(fake_slack.posted(UNIT_CHANNEL))
    assert posted == sorted(posted) and len(posted) == len(set(posted)) == 6


async def test_an_unconfigured_channel_keeps_its_posts_queued_and_warns_once(
        slack_settings: Settings, clock: Any, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    svc = make_svc(slack_settings.model_copy(update={"unit_channel": None}), clock)
    run(svc, CONCERN.replace("new ", "concern new ", 1))
    run(svc, "unit add <@UANN> role=member org=SSP")
    client = delivery_client(svc.settings)
    with caplog.at_level(logging.WARNING, logger="bot.slack.delivery"):
        assert await deliver_pending(svc, client) == 1  # the DM goes; the channel post waits
        assert await deliver_pending(svc, client) == 0
    assert caplog.text.count("no Slack channel configured") <= 1  # once per process, not per pass
    assert [r.state for r in rows(svc)] == ["pending", "sent"]
    assert "summary" not in caplog.text.lower() and "KE-" not in caplog.text
    svc.engine.dispose()


async def test_dms_to_members_of_other_platforms_are_left_to_their_adapter(
        slack_svc: Services, fake_slack: FakeSlack) -> None:
    with unit_of_work(slack_svc.engine) as session:
        session.add(Member(user_id="29:teams-user", platform="teams", role="member", org="SSP",
                           created_at=slack_svc.clock.now()))
    with unit_of_work(slack_svc.engine) as session:
        for user in ("29:teams-user", "UADMIN"):
            outbox.enqueue(session, clock=slack_svc.clock, vault=slack_svc.vault, target_kind="user", target=user,
                           payload=Reply(text="reminder").to_json())
    run(slack_svc, "case list")  # makes UADMIN a Slack member (ADMIN_USERS)
    # the DM to UADMIN, and (Teams not being configured here) the secretariat told who cannot be reached
    assert await deliver_pending(slack_svc, delivery_client(slack_svc.settings)) == 2
    assert [r.state for r in rows(slack_svc)] == ["pending", "sent", "sent"]
    assert fake_slack.posted("DUADMIN")


async def test_a_message_with_attachments_is_one_file_share(slack_svc: Services, fake_slack: FakeSlack) -> None:
    reply = Reply(text="Invitation M-2026-001", attachments=[Attachment("invite.ics", "text/calendar", b"BEGIN:VCAL")])
    with unit_of_work(slack_svc.engine) as session:
        outbox.enqueue(session, clock=slack_svc.clock, vault=slack_svc.vault, target_kind="channel", target="unit",
                       payload=reply.to_json())
    assert await deliver_pending(slack_svc, delivery_client(slack_svc.settings)) == 1
    complete = fake_slack.calls_to("files.completeUploadExternal")[0].data
    assert complete["channel_id"] == UNIT_CHANNEL and "M-2026-001" in complete["initial_comment"]
    assert list(fake_slack.uploads.values()) == [b"BEGIN:VCAL"]
    assert rows(slack_svc)[0].external_id in fake_slack.uploads


async def test_a_row_that_replaces_an_earlier_message_updates_it_in_place(slack_svc: Services,
                                                                         fake_slack: FakeSlack) -> None:
    run(slack_svc, "case list")  # makes UADMIN a Slack member (ADMIN_USERS)
    client = delivery_client(slack_svc.settings)
    with unit_of_work(slack_svc.engine) as session:
        original = outbox.enqueue(session, clock=slack_svc.clock, vault=slack_svc.vault, target_kind="user",
                                  target="UADMIN", payload=Reply(text="Reminder F-1").to_json())
        assert original is not None
        original_id = original.id
    assert await deliver_pending(slack_svc, client) == 1
    with unit_of_work(slack_svc.engine) as session:
        outbox.enqueue(session, clock=slack_svc.clock, vault=slack_svc.vault, target_kind="user", target="UADMIN",
                       payload=Reply(text="F-1 done").to_json(), replaces_id=original_id)
    assert await deliver_pending(slack_svc, client) == 1
    update = fake_slack.calls_to("chat.update")[0].data
    first_ts = rows(slack_svc)[0].external_id
    assert update["channel"] == "DUADMIN" and update["ts"] == first_ts and "F-1 done" in update["text"]
    assert len(fake_slack.posted("DUADMIN")) == 1 and rows(slack_svc)[1].external_id == first_ts


async def test_the_workers_delivery_entry_point_uses_the_slack_dispatcher(slack_svc: Services,
                                                                         fake_slack: FakeSlack) -> None:
    from bot.delivery import deliver_pending as worker_delivery

    run(slack_svc, CONCERN.replace("new ", "concern new ", 1))
    assert await worker_delivery(slack_svc) == 1
    assert refs(fake_slack.posted(UNIT_CHANNEL)) == ["KE-2026-0001"]



async def test_the_channel_notice_follows_the_case_with_chat_update(server: AppServer, fake_slack: FakeSlack) -> None:
    await server.slash("/concern", CONCERN, response_key="c")
    await reply_to(fake_slack, "c")
    notice = (await wait_until(lambda: fake_slack.posted(UNIT_CHANNEL), what="the notice"))[0]
    assert "Refer" in json.dumps(notice["blocks"])
    ts = (await wait_until(lambda: [r.external_id for r in rows(server.svc)
                                    if r.dedupe_key == "case-notice:KE-2026-0001" and r.external_id],
                           what="the notice's ts"))[0]
    run(server.svc, "case qualify KE-2026-0001 level=preventive")
    run(server.svc, "case refer KE-2026-0001 to=SOF")
    updates = await wait_until(lambda: [c.data for c in fake_slack.calls_to("chat.update") if c.status == 200
                                        and c.data.get("channel") == UNIT_CHANNEL][1:], what="two updates")
    latest = json.dumps(updates[-1], ensure_ascii=False)
    assert "referred" in latest and "SOF" in latest and "Refer…" not in latest and "Qualify" not in latest
    assert {u["ts"] for u in updates} == {ts}  # the notice itself, updated in place
    assert [m for m in fake_slack.posted(UNIT_CHANNEL) if "KE-2026-0001" in json.dumps(m)][1:] == [
        m for m in fake_slack.posted(UNIT_CHANNEL) if "is referred" in json.dumps(m) or "referred to" in
        json.dumps(m)]  # besides the notice, only the referral's own notice was posted
