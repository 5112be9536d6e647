"""bolt answers Slack when a listener returns (`process_before_response=True`); `acked_first` makes each
listener return at its ack, so the answer leaves at once and the work goes on after it — with bolt's real app."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.slack.listeners.acked import acked_first

SECRET = "s3cret"


def signed(body: str) -> AsyncBoltRequest:
    stamp = str(int(time.time()))
    signature = "v0=" + hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return AsyncBoltRequest(body=body, headers={"content-type": ["application/x-www-form-urlencoded"],
                                                "x-slack-request-timestamp": [stamp],
                                                "x-slack-signature": [signature]})


def slash(text: str = "list") -> str:
    return urlencode({"command": "/case", "text": text, "user_id": "U1", "team_id": "T1", "channel_id": "C1",
                      "response_url": "http://127.0.0.1:9/r", "trigger_id": "t1"})


async def authorize(**_: Any) -> AuthorizeResult:  # one workspace, no auth.test call to make
    return AuthorizeResult(enterprise_id=None, team_id="T1", bot_token="xoxb-test", bot_user_id="B1")


def app() -> AsyncApp:
    return AsyncApp(signing_secret=SECRET, authorize=authorize, process_before_response=True)


async def test_the_answer_leaves_at_the_ack_while_the_work_goes_on() -> None:
    bolt, release, done = app(), asyncio.Event(), asyncio.Event()

    async def listener(ack: Any, command: dict[str, Any]) -> None:
        await ack()
        await release.wait()  # the use case, still running
        done.set()

    bolt.command("/case")(acked_first(listener))
    response = await asyncio.wait_for(bolt.async_dispatch(signed(slash())), 1)
    assert response.status == 200 and not done.is_set()
    release.set()
    await asyncio.wait_for(done.wait(), 1)


async def test_an_error_before_the_ack_reaches_bolts_error_handler() -> None:
    bolt, seen = app(), []

    async def listener(ack: Any) -> None:
        raise ValueError("before the ack")

    async def handler(error: Exception) -> None:
        seen.append(type(error).__name__)

    bolt.error(handler)
    bolt.command("/case")(acked_first(listener))
    response = await bolt.async_dispatch(signed(slash()))
    assert seen == ["ValueError"] and response.status == 500


async def test_an_error_after_the_ack_is_one_log_line_without_the_payload(caplog: pytest.LogCaptureFixture) -> None:
    bolt, failed = app(), asyncio.Event()

    async def listener(ack: Any, command: dict[str, Any]) -> None:
        await ack()
        failed.set()
        raise RuntimeError(command["text"])

    bolt.command("/case")(acked_first(listener))
    with caplog.at_level(logging.ERROR):
        assert (await bolt.async_dispatch(signed(slash("note KE-2026-0001 hemmeligt")))).status == 200
        await failed.wait()
        await asyncio.sleep(0.01)
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.slack.listeners.acked"]
    assert len(lines) == 1 and "RuntimeError" in lines[0] and "hemmeligt" not in lines[0]


async def test_an_event_is_answered_without_waiting_for_its_listener() -> None:
    bolt, release = app(), asyncio.Event()

    async def listener(event: dict[str, Any]) -> None:
        await release.wait()

    bolt.event("app_home_opened")(acked_first(listener))
    body = ('{"type":"event_callback","team_id":"T1","api_app_id":"A1","event_id":"Ev1","event_time":1,'
            '"event":{"type":"app_home_opened","user":"U1","tab":"home"}}')
    request = signed(body)
    request.headers["content-type"] = ["application/json"]
    response = await asyncio.wait_for(bolt.async_dispatch(request), 1)
    assert response.status == 200
    release.set()
