"""Button clicks: each button carries a command text, run as the clicking user (the router authorises).

"Refer…" opens a small modal that only assembles the `case refer` command.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import render
from bot.slack.answer import Where
from bot.slack.runtime import invocation, runtime_of
from commands.profile import offered_orgs

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
    ref = CASE_REF.search(command)
    if action.get("action_id", "").startswith(render.ACTION_PREFIX + render.REFER_ACTION + ".") and ref and trigger_id:
        orgs = await asyncio.to_thread(offered_orgs, rt.svc)
        view = render.refer_modal(ref.group(0), rt.lang, orgs, {"ch": channel, "ru": response_url})
        try:
            await client.views_open(trigger_id=trigger_id, view=view)
            return
        except SlackApiError:
            pass  # fall back to running the command itself: its usage line says what is missing
    inv = invocation(user, command, channel_id=channel, request_id=f"action:{trigger_id}" if trigger_id else None)
    await rt.handle(inv, Where(inv.user_id, channel, response_url, trigger_id), client)


def register(app: AsyncApp) -> None:
    app.action(ACTIONS)(on_button)
