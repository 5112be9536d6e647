"""Events API: App Home. Opening the Home tab republishes it, so it is never stale for long."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.answer import publish_home
from bot.slack.runtime import runtime_of


async def on_app_home_opened(event: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    await runtime_of(context).work(publish_home, event["user"])


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(on_app_home_opened)
