"""Slash commands and buttons are acked before bolt starts their listener (bot/slack/ack.py), so bolt answers
Slack at once instead of polling every 10 ms for the listener's own ack; a modal submission is not (its ack may
carry the form's errors)."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.slack.ack import AckAtOnce


async def test_the_answer_leaves_before_the_listener_has_done_anything() -> None:
    async def authorize(**_kwargs: Any) -> AuthorizeResult:  # no Slack to ask
        return AuthorizeResult(enterprise_id=None, team_id="T1", bot_token="xoxb-t", bot_user_id="UB", bot_id="B")

    app = AsyncApp(signing_secret="s", authorize=authorize, request_verification_enabled=False)
    gate = asyncio.Event()
    ran: list[str] = []

    async def listener(ack: Any) -> None:
        await gate.wait()  # e.g. a busy event loop: without the middleware bolt would wait for this
        ran.append("listener")
        await ack()

    app.command("/concern", middleware=[AckAtOnce()])(listener)
    request = AsyncBoltRequest(body="command=%2Fconcern&text=list&user_id=U1&team_id=T1&channel_id=C1",
                               headers={"content-type": ["application/x-www-form-urlencoded"]})
    response = await asyncio.wait_for(app.async_dispatch(request), timeout=2)
    assert response.status == 200 and ran == []
    gate.set()
    for _ in range(100):
        if ran:
            break
        await asyncio.sleep(0.01)
    assert ran == ["listener"]  # and the listener still runs, after the answer


def test_commands_and_buttons_ack_at_once_modal_submissions_do_not(slack_svc: Any) -> None:
    from bot.slack.app import build_app
    from bot.slack.runtime import SlackRuntime
    from bot.work import Work

    app = build_app(SlackRuntime(slack_svc, Work(slack_svc)))
    kinds: dict[str, list[bool]] = {}
    for listener in app._async_listeners:  # noqa: SLF001 — what bolt will run, as registered
        name = getattr(listener.ack_function, "__name__", "")
        kinds.setdefault(name, []).append(any(isinstance(m, AckAtOnce) for m in listener.middleware))
    assert kinds["on_slash_command"] == [True]  # one listener for every slash command
    assert kinds["on_button"] == [True]
    assert not any(any(v) for k, v in kinds.items() if k not in ("on_slash_command", "on_button"))
