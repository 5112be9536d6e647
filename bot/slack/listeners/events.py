"""Events API: App Home. Opening the Home tab republishes it, so it is never stale for long."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import render
from bot.slack.runtime import run_blocking, runtime_of
from commands.home import home


async def on_app_home_opened(event: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    rt = runtime_of(context)
    reply = await run_blocking(home, rt.svc, event["user"])
    await client.views_publish(user_id=event["user"], view=render.home_view(reply, rt.lang))


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(on_app_home_opened)
