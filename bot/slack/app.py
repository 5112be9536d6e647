"""Build the bolt AsyncApp: clients, the two middlewares, the listeners. Nothing else lives here."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.listeners import register_listeners
from bot.slack.runtime import CONTEXT_KEY, SlackRuntime
from storage.settings import Settings

log = logging.getLogger(__name__)


class _SameTokenNotice(logging.Filter):
    """bolt reads SLACK_BOT_TOKEN from the environment itself and warns that our client's (identical)
    token wins; that warning would only confuse an operator."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


log.addFilter(_SameTokenNotice())


def api_url(settings: Settings) -> str:
    """slack_sdk joins method names onto the base URL, so it must end with a slash."""
    url = settings.slack_api_url.strip() or "https://slack.com/api/"
    return url if url.endswith("/") else url + "/"


def interactive_client(settings: Settings) -> AsyncWebClient:
    """For replies while a user waits: one short retry on a rate limit is better than no answer."""
    return AsyncWebClient(token=settings.slack_bot_token, base_url=api_url(settings), retry_handlers=[
        AsyncConnectionErrorRetryHandler(), AsyncRateLimitErrorRetryHandler(max_retry_count=1)])


def delivery_client(settings: Settings) -> AsyncWebClient:
    """For the outbox: no automatic retries at all — the dispatcher owns backoff and Retry-After, and a
    hidden retry after a dropped connection is exactly how a message gets posted twice."""
    return AsyncWebClient(token=settings.slack_bot_token, base_url=api_url(settings), retry_handlers=[])


def build_app(runtime: SlackRuntime) -> AsyncApp:
    settings = runtime.svc.settings
    app = AsyncApp(
        client=interactive_client(settings),
        signing_secret=settings.slack_signing_secret or "",  # "" : Socket Mode needs none; never read os.environ
        name="koordinator",
        logger=log,
    )

    async def drop_slack_retries(req: AsyncBoltRequest, next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        # Every request is acked at once, so a retry only means Slack did not see our ack in time: the
        # first delivery is (being) handled; acting again would duplicate it.
        if req.headers.get("x-slack-retry-num"):
            log.info("ignored Slack retry (%s)", (req.headers.get("x-slack-retry-reason") or ["?"])[0])
            return BoltResponse(status=200, body="")
        await next()
        return None

    async def attach_runtime(context: dict[str, Any], next: Callable[[], Awaitable[None]]) -> None:
        context[CONTEXT_KEY] = runtime
        await next()

    app.use(drop_slack_retries)
    app.use(attach_runtime)
    register_listeners(app)
    return app
