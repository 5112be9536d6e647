"""Getting a Reply to one person privately: ephemeral where there is a channel, else a DM; forms as modals.

Order of attempts: the interaction's response_url (works in any channel, even where the bot is not a
member) → chat.postEphemeral → a DM. Nothing here logs message contents.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.slack import render
from commands.reply import Attachment, Reply

log = logging.getLogger(__name__)

NETWORK_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError, SlackClientError)
_DM_CHANNELS: dict[tuple[str, str | None, str], str] = {}
_DM_CACHE_SIZE = 5000


async def open_dm(client: AsyncWebClient, user_id: str) -> str:
    """The bot's DM channel with a user (cached: conversations.open is rate-limited, Tier 3)."""
    key = (client.base_url, client.token, user_id)
    channel = _DM_CHANNELS.get(key)
    if channel is None:
        response = await client.conversations_open(users=user_id)
        channel = response["channel"]["id"]
        if len(_DM_CHANNELS) >= _DM_CACHE_SIZE:
            _DM_CHANNELS.clear()
        _DM_CHANNELS[key] = channel
    return channel


async def upload(client: AsyncWebClient, channel: str, attachments: list[Attachment],
                 comment: str | None = None) -> str | None:
    """One file share (files.uploadV2 steps) carrying every attachment; returns the first file id."""
    response = await client.files_upload_v2(
        channel=channel, initial_comment=comment,
        file_uploads=[{"file": a.data, "filename": a.filename, "title": a.filename} for a in attachments])
    files = response.get("files") or []
    return files[0].get("id") if files else None


async def _via_response_url(client: AsyncWebClient, response_url: str, payload: dict[str, Any],
                            private: bool) -> bool:
    try:
        result = await AsyncWebhookClient(response_url, session=client.session).send(
            response_type="ephemeral" if private else "in_channel", replace_original=False, **payload)
    except NETWORK_ERRORS as exc:
        log.warning("response_url failed (%s)", type(exc).__name__)
        return False
    if result.status_code != 200:
        log.warning("response_url answered %s", result.status_code)
    return result.status_code == 200


async def send_private(client: AsyncWebClient, lang: str, reply: Reply, *, user_id: str,
                       channel_id: str | None = None, response_url: str | None = None) -> None:
    payload = render.message(reply, lang)
    sent = bool(response_url) and await _via_response_url(client, response_url or "", payload,
                                                               reply.private)
    if not sent and channel_id and not channel_id.startswith("D"):
        try:
            await client.chat_postEphemeral(channel=channel_id, user=user_id, **payload)
            sent = True
        except SlackApiError as exc:
            log.info("ephemeral reply refused (%s); falling back to a DM", exc.response.get("error"))
    if not sent or reply.attachments:
        dm = await open_dm(client, user_id)
        if not sent:
            await client.chat_postMessage(channel=dm, **payload)
        if reply.attachments:
            await upload(client, dm, reply.attachments)


async def show(client: AsyncWebClient, lang: str, reply: Reply, *, user_id: str, channel_id: str | None,
               response_url: str | None, trigger_id: str | None) -> None:
    """A reply with a form opens a modal (trigger_id lives 3 s, hence right after the use case); else private."""
    if reply.form is not None and trigger_id:
        metadata = {"ch": channel_id, "ru": response_url}
        try:
            await client.views_open(trigger_id=trigger_id, view=render.modal(reply.form, lang, metadata, reply.text))
            return
        except SlackApiError as exc:
            log.warning("views.open failed (%s)", exc.response.get("error"))
    await send_private(client, lang, reply, user_id=user_id, channel_id=channel_id, response_url=response_url)
