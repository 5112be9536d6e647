"""Button clicks: each button carries a command text, run as the clicking user (the router authorises).

A button whose command needs more (e.g. "Refer…" runs `case refer KE-…`) opens that command's form as a modal.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import render
from bot.slack.ack import AckAtOnce
from bot.slack.answer import Where
from bot.slack.runtime import invocation, runtime_of

CASE_REF = re.compile(r"KE-\d{4}-\d{4,}")
ACTIONS = re.compile("^" + re.escape(render.ACTION_PREFIX))


def _channel(body: dict[str, Any]) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


async def on_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
                    context: Any) -> None:
    await ack()
    rt = runtime_of(context)
    command = str(action.get("value") or "")
    channel, response_url, trigger_id = _channel(body), body.get("response_url"), body.get("trigger_id")
    user = body.get("user") or {}
    inv = invocation(user, command, channel_id=channel, request_id=f"action:{trigger_id}" if trigger_id else None)
    await rt.handle(inv, Where(inv.user_id, channel, response_url, trigger_id), client)


def register(app: AsyncApp) -> None:
    app.action(ACTIONS, middleware=[AckAtOnce()])(on_button)
