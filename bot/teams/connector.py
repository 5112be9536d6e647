"""The Teams SDK app and the three calls we make to the Bot Connector: post a card, update it, open a 1:1 chat.

Each call is one HTTP request to the conversation's service URL. The SDK's HTTP client retries nothing, which is
what the outbox needs: it owns retries and backoff, and a hidden retry after a dropped connection is exactly how
a message gets posted twice. Failures surface as `httpx.HTTPStatusError` (with the status and Retry-After) or
as transport errors.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.teams.config import auth_mode
from bot.teams.render import CARD_CONTENT_TYPE
from bot.teams.sdk import (
    Account,
    App,
    Attachment,
    CloudEnvironment,
    ConversationAccount,
    CreateConversationParams,
    FastAPIAdapter,
    MessageActivityInput,
    TokenProvider,
)
from storage.settings import Settings

log = logging.getLogger(__name__)


def build_app(settings: Settings, *, adapter: FastAPIAdapter | None = None, cloud: CloudEnvironment | None = None,
              token: TokenProvider | None = None) -> App:
    """The SDK app. `cloud` and `token` replace Microsoft's endpoints and the client-secret token in tests (a
    fake OpenID key set, a fake connector); production passes neither.

    Everything is passed explicitly, so the SDK's own environment variables (CLIENT_ID, CLIENT_SECRET,
    DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS) can never switch authentication off behind our back.
    """
    mode = auth_mode(settings)
    options: dict[str, Any] = {
        "dangerously_allow_unauthenticated_requests": mode == "dev",
        "tenant_id": settings.teams_tenant_id or None,
        "state": False,
    }
    if adapter is not None:
        options["http_server_adapter"] = adapter
    if cloud is not None:
        options["cloud"] = cloud
    if mode == "jwt" and token is not None:
        options.update(client_id=settings.teams_app_id, token=token)
    elif mode == "jwt":
        options.update(client_id=settings.teams_app_id, client_secret=settings.teams_app_password)
    return App(**options)


def message(card: dict[str, Any], summary: str) -> MessageActivityInput:
    """One card per message; `summary` is the line a notification shows."""
    activity = MessageActivityInput(summary=summary)
    return activity.add_attachments(Attachment(content_type=CARD_CONTENT_TYPE, content=card))


class Connector:
    def __init__(self, app: App) -> None:
        self.app = app

    def _address(self, activity: MessageActivityInput, conversation_id: str) -> MessageActivityInput:
        """From the bot, to the conversation — as the SDK's own `send` addresses a proactive message."""
        if self.app.id:
            activity.from_ = Account(id=f"28:{self.app.id}")
        activity.conversation = ConversationAccount(id=conversation_id)
        return activity

    async def post(self, service_url: str, conversation_id: str, activity: MessageActivityInput) -> str:
        sent = await self.app.api.conversations.create_activity(
            conversation_id, self._address(activity, conversation_id), service_url=service_url)
        return sent.id

    async def update(self, service_url: str, conversation_id: str, activity_id: str,
                     activity: MessageActivityInput) -> str:
        sent = await self.app.api.conversations.update_activity(
            conversation_id, activity_id, self._address(activity, conversation_id), service_url=service_url)
        return sent.id or activity_id

    async def open_personal(self, service_url: str, tenant_id: str, teams_user_id: str,
                            bot_id: str | None) -> str:
        """The bot's 1:1 chat with a user (Teams returns the existing one when there is one)."""
        extra: dict[str, Any] = {"isGroup": False, "channelData": {"tenant": {"id": tenant_id}}}
        if bot_id:
            extra["bot"] = {"id": bot_id}
        params = CreateConversationParams(members=[Account(id=teams_user_id)], tenant_id=tenant_id, **extra)
        created = await self.app.api.clone(service_url=service_url).conversations.create(params)
        return created.id

    async def member(self, service_url: str, conversation_id: str, teams_user_id: str) -> tuple[str, str] | None:
        """A member of a conversation by their Teams id: (Entra object id, name); None when Teams does not say
        (not a member there, or no object id)."""
        api = self.app.api.clone(service_url=service_url)
        account = await api.conversations.members(conversation_id).get(teams_user_id)
        if not account.aad_object_id:
            return None
        return account.aad_object_id.lower(), account.name or ""
