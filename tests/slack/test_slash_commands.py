"""Slash commands over real HTTP: ack fast, answer privately, queue channel notices without free text."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from fake_slack import FakeSlack
from slack_http import ADMIN, UNIT_CHANNEL, AppServer, wait_until
from slack_sdk.models.blocks import Block
from sqlmodel import Session, func, select

from bot.slack.listeners.commands import SLASH_COMMANDS
from commands.router import TABLE
from storage.models import AuditEntry, Case, OutboxMessage

SUMMARY = "Eleven udtrykker støtte til vold i frikvarteret"
CONCERN = f'new severity=high track=child age=15-17 source=school district=Nørrebro basis=rpl115 summary="{SUMMARY}"'


def all_text(body: dict[str, Any]) -> str:
    """Every human-visible string of a message body (blocks, fields, buttons and the fallback)."""
    return json.dumps(body, ensure_ascii=False)


def valid_blocks(body: dict[str, Any]) -> None:
    for block in Block.parse_all(body.get("blocks") or []):
        block.validate_json()


def count(svc: Any, model: Any) -> int:
    with Session(svc.engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


async def reply_to(fake: FakeSlack, key: str) -> dict[str, Any]:
    bodies = await wait_until(lambda: fake.responses_to(key), what=f"reply on response_url {key}")
    valid_blocks(bodies[0])
    return bodies[0]


async def test_concern_new_acks_fast_replies_privately_and_notices_the_unit_without_summary(
        server: AppServer, fake_slack: FakeSlack) -> None:
    started = time.monotonic()
    response = await server.slash("/concern", CONCERN, response_key="c1")
    assert response.status_code == 200
    assert time.monotonic() - started < 3
    reply = await reply_to(fake_slack, "c1")
    assert reply["response_type"] == "ephemeral"
    assert "KE-2026-0001" in all_text(reply)
    notices = await wait_until(lambda: fake_slack.posted(UNIT_CHANNEL), what="unit channel notice")
    assert len(notices) == 1
    notice = all_text(notices[0])
    assert "KE-2026-0001" in notice and "high" in notice and "child" in notice
    assert SUMMARY not in notice and "frikvarteret" not in notice
    valid_blocks(notices[0])
    assert count(server.svc, Case) == 1
    await wait_until(lambda: count(server.svc, OutboxMessage) == 1, what="outbox row")


@pytest.mark.parametrize("command", SLASH_COMMANDS)
async def test_every_slash_command_answers_something_sensible(server: AppServer, fake_slack: FakeSlack,
                                                              command: str) -> None:
    response = await server.slash(f"/{command}", "", response_key=command)
    assert response.status_code == 200
    if command in ("concern", "minutes"):  # no text: the intake modal, the decision's form
        await wait_until(lambda: fake_slack.calls_to("views.open"), what="modal")
        return
    text = all_text(await reply_to(fake_slack, command))
    assert "Unknown command" not in text and "Something went wrong" not in text
    if command == "koordinator":
        assert "help" in text and "concern" in text


@pytest.mark.parametrize("command, text, expect", [
    ("/koordinator", "case show", "case show KE-…"),
    ("/case", "help", "case list"),
    ("/case", "list", "No cases"),
    ("/mentor", "help", "mentor log"),
    ("/meeting", "help", "meeting list"),
    ("/agenda", "help", "agenda"),
    ("/minutes", "help", "minutes KE-…"),
    ("/followup", "help", "followup list"),
    ("/report", "help", "report kpi"),
    ("/unit", "members", "Members of the unit"),
])
async def test_each_command_group_maps_to_its_command_text(server: AppServer, fake_slack: FakeSlack,
                                                           command: str, text: str, expect: str) -> None:
    key = command.strip("/") + text.split()[0]
    assert (await server.slash(command, text, response_key=key)).status_code == 200
    assert expect in all_text(await reply_to(fake_slack, key))


async def test_commands_of_later_releases_answer_not_available_yet(server: AppServer, fake_slack: FakeSlack) -> None:
    later = [c for c in TABLE.commands.values() if c.handler is None]
    if not later:
        pytest.skip("every command is implemented")
    for cmd in later:
        key = "later-" + "-".join(cmd.path)
        assert (await server.slash(f"/{cmd.path[0]}", " ".join(cmd.path[1:]), response_key=key)).status_code == 200
        assert "not available yet" in all_text(await reply_to(fake_slack, key)), cmd.name


async def test_concern_without_text_opens_the_intake_modal(server: AppServer, fake_slack: FakeSlack) -> None:
    await server.slash("/concern", "")
    call = (await wait_until(lambda: fake_slack.calls_to("views.open"), what="views.open"))[0]
    view = call.data["view"]
    assert call.data["trigger_id"].startswith("trigger.")
    assert view["type"] == "modal" and json.loads(view["private_metadata"])["form"] == "concern.intake"
    blocks = {b.get("block_id"): b for b in view["blocks"] if b["type"] == "input"}
    assert blocks["severity"]["element"]["type"] == "static_select"
    assert blocks["indicators"]["element"]["type"] == "multi_static_select"
    assert blocks["summary"]["element"]["multiline"] is True
    assert blocks["subject1_identifier"]["label"]["text"].startswith("🔒")
    assert blocks["subject1_identifier"]["optional"] is True and blocks["summary"]["optional"] is False


async def test_unknown_user_is_refused_politely_and_audited(server: AppServer, fake_slack: FakeSlack) -> None:
    await server.slash("/case", "list", user="USTRANGER", response_key="s1")
    assert "not a member" in all_text(await reply_to(fake_slack, "s1"))
    with Session(server.svc.engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.actor == "USTRANGER")).one()
    assert entry.action == "access.denied" and entry.result == "refused"


async def test_pii_in_a_slash_command_is_refused_and_nothing_is_stored(server: AppServer,
                                                                       fake_slack: FakeSlack) -> None:
    await server.slash("/concern", CONCERN.replace(SUMMARY, "ring 12345678 eller 010203-1234"), response_key="p")
    assert "nothing was stored" in all_text(await reply_to(fake_slack, "p"))
    assert count(server.svc, Case) == 0 and count(server.svc, OutboxMessage) == 0


@pytest.mark.parametrize("tamper", ["signature", "stale"])
async def test_forged_or_stale_requests_get_401_and_store_nothing(server: AppServer, fake_slack: FakeSlack,
                                                                  tamper: str) -> None:
    kw: dict[str, Any] = {"secret": "not-the-secret"} if tamper == "signature" else {
        "timestamp": int(time.time()) - 10 * 60}
    response = await server.slash("/concern", CONCERN, response_key="f", **kw)
    assert response.status_code == 401
    await asyncio.sleep(0.3)  # give a wrongly accepted request time to act
    assert count(server.svc, Case) == 0 and count(server.svc, AuditEntry) == 0
    assert not fake_slack.responses_to("f")


async def test_a_slack_retry_of_the_same_request_does_not_act_twice(server: AppServer, fake_slack: FakeSlack) -> None:
    await server.slash("/concern", CONCERN, response_key="once")
    await reply_to(fake_slack, "once")
    retry = await server.slash("/concern", CONCERN, response_key="again",
                               headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert retry.status_code == 200
    await asyncio.sleep(0.3)  # give a wrongly accepted request time to act
    assert count(server.svc, Case) == 1 and not fake_slack.responses_to("again")


async def test_admin_from_admin_users_becomes_a_slack_member(server: AppServer, fake_slack: FakeSlack) -> None:
    await server.slash("/unit", "add <@UANN|ann> role=member org=SSP", response_key="add")
    assert "<@UANN>" in all_text(await reply_to(fake_slack, "add"))
    welcome = await wait_until(lambda: fake_slack.posted("DUANN"), what="welcome DM")
    assert "member" in all_text(welcome[0])
    assert fake_slack.calls_to("conversations.open")[0].data["users"] == "UANN"
    await server.slash("/unit", "members", response_key="members", user=ADMIN)
    assert "<@UANN>" in all_text(await reply_to(fake_slack, "members"))
