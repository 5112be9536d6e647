"""Slash commands: `/X text` is the command text `X text`; `/koordinator …` is `help …`.

Ack first (an empty ack shows nothing), then run the use case and answer privately — Slack's 3-second
budget is spent only on the ack, never on the database.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.ack import AckAtOnce
from bot.slack.answer import Where
from bot.slack.render import unescape
from bot.slack.runtime import invocation, runtime_of
from commands.registry import GROUPS

HELP_COMMAND = "koordinator"  # Slack reserves /help
SLASH_COMMANDS: tuple[str, ...] = (HELP_COMMAND, *(g for g in GROUPS if g != "help"))
SLASH_PATTERN = re.compile("^/(" + "|".join(re.escape(name) for name in SLASH_COMMANDS) + ")$")


def command_text(command: str, text: str) -> str:
    name = command.lstrip("/").lower()
    words = unescape(text or "").strip()
    head = "help" if name == HELP_COMMAND else name
    return f"{head} {words}".strip()


async def on_slash_command(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient,
                           context: Any) -> None:
    await ack()
    rt = runtime_of(context)
    user = {"id": command.get("user_id", ""), "username": command.get("user_name", "")}
    inv = invocation(user, command_text(command.get("command", ""), command.get("text", "")),
                     channel_id=command.get("channel_id"), request_id=command.get("trigger_id"))
    await rt.handle(inv, Where(inv.user_id, inv.channel_id, command.get("response_url"), command.get("trigger_id")),
                    client)


def register(app: AsyncApp) -> None:
    # one listener for them all: bolt tries each listener's matcher in turn, on the event loop, per request
    app.command(SLASH_PATTERN, middleware=[AckAtOnce()])(on_slash_command)
