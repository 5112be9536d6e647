"""The outbox for Slack: channel posts (when Slack is configured, the channels are Slack's) and DMs to members on
Slack, through the shared outbox sender (bot/outbox_sender.py). What is Slack's here: a DM opens the conversation first,
a row that replaces an earlier message is a chat.update on its `ts`, attachments are one file share, and a
SlackApiError's status says when to retry.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import outbox_sender as dispatch
from bot.loop import KickedLoop
from bot.outbox_sender import COALESCE_S, Claimed, Failure, Hooks, Row
from bot.runtime import Runner
from bot.slack import render
from bot.slack.clients import delivery_client
from bot.slack.messaging import NETWORK_ERRORS, open_dm, upload
from commands.context import Services
from commands.reply import Reply

PLATFORM = "slack"
SLACK_TS = re.compile(r"\d+\.\d+")
GONE = ("message_not_found", "cant_update_message", "edit_window_closed")


def _is_ts(external_id: str) -> bool:
    """Only a posted message (not a file share) can be updated in place."""
    return SLACK_TS.fullmatch(external_id) is not None


def _retry_after(exc: SlackApiError) -> timedelta | None:
    headers = exc.response.headers or {}
    raw = headers.get("Retry-After") or headers.get("retry-after")
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    try:
        return timedelta(seconds=max(1, int(str(raw))))
    except (TypeError, ValueError):
        return None


class SlackOut:
    """The Slack side of the outbox sender (bot.outbox_sender.Platform)."""

    title = "Slack"
    hooks = Hooks(PLATFORM, replaceable=_is_ts)
    owns_channels = True
    network_errors = NETWORK_ERRORS
    channel_hint = ""

    def __init__(self, svc: Services, client: AsyncWebClient) -> None:
        self.svc, self.client = svc, client

    async def send(self, row: Row, channel: str | None, claimed: Claimed) -> str | None:
        channel = channel or await open_dm(self.client, row.target)
        reply = Reply.from_json(claimed.payload)
        if claimed.replaces and not reply.attachments:
            try:  # e.g. a reminder DM whose buttons give way to "done"
                await self.client.chat_update(channel=channel, ts=claimed.replaces,
                                              **render.message(reply, self.svc.lang))
                return claimed.replaces
            except SlackApiError as exc:
                if exc.response.get("error") not in GONE:
                    raise
        if reply.attachments:
            # One file share is one visible message: the text rides along as its comment (no buttons there) —
            # so buttons (a published agenda's, to run the meeting from) follow as a message of their own.
            shared = await upload(self.client, channel, reply.attachments, render.caption(reply))
            if any(b.command for b in reply.buttons):
                buttons = Reply(text="", title=reply.title, buttons=reply.buttons, private=reply.private)
                await self.client.chat_postMessage(channel=channel, **render.message(buttons, self.svc.lang))
            return shared
        response = await self.client.chat_postMessage(channel=channel, unfurl_links=False, unfurl_media=False,
                                                      **render.message(reply, self.svc.lang))
        return response.get("ts")

    def failure(self, exc: Exception) -> Failure | None:
        if not isinstance(exc, SlackApiError):
            return None
        status, code = exc.response.status_code, str(exc.response.get("error") or "")
        return Failure(status, f"{status} {code}".strip(), _retry_after(exc) if status == 429 else None)


async def deliver_pending(svc: Services, client: AsyncWebClient, *, now: datetime | None = None,
                          work: Runner | None = None) -> int:
    """Deliver every due outbox row meant for Slack; returns how many were sent in this pass. `work` runs the
    database steps (the server's worker processes); by default they run in a thread."""
    return await dispatch.deliver(svc, SlackOut(svc, client), now=now, work=work)


async def deliver_with_settings(svc: Services) -> int:
    """One pass with a client built from the settings: for the scheduler's worker process."""
    return await deliver_pending(svc, delivery_client(svc.settings))


def delivery_pass(svc: Services, now: datetime | None = None) -> int:
    """One whole pass, synchronously, on an event loop of its own: the server runs it in a work process
    (or thread), so neither the Slack calls nor the bookkeeping ever delay an ack."""
    return asyncio.run(deliver_pending(svc, delivery_client(svc.settings), now=now, work=dispatch.Inline(svc)))


class DeliveryLoop(KickedLoop):
    """Runs a delivery pass every `interval` seconds, and soon after a kick (after each command).

    The pass itself runs on the work pool (`delivery_pass`), one at a time; the server's event loop only
    schedules it.
    """

    name = "slack-outbox"

    def __init__(self, svc: Services, work: Runner, interval: float = 2.0, coalesce: float = COALESCE_S) -> None:
        super().__init__(interval, coalesce)
        self.svc, self.work = svc, work

    async def one_pass(self) -> None:
        await self.work(delivery_pass, self.svc.clock.now())
