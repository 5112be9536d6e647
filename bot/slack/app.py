"""Build the bolt AsyncApp: clients, the two middlewares, the listeners. Nothing else lives here."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.slack.clients import interactive_client
from bot.slack.listeners import register_listeners
from bot.slack.runtime import CONTEXT_KEY, SlackRuntime

log = logging.getLogger(__name__)


class _SameTokenNotice(logging.Filter):
    """bolt reads SLACK_BOT_TOKEN from the environment itself and warns that our client's (identical)
    token wins; that warning would only confuse an operator."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


log.addFilter(_SameTokenNotice())


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

    async def one_line(error: Exception) -> BoltResponse:
        # Bolt's default logs the whole traceback and the error's message, which may quote the payload.
        error_id = secrets.token_hex(4)
        log.error("Slack request failed (%s) error_id=%s", type(error).__name__, error_id)
        return BoltResponse(status=400, body="")

    app.error(one_line)
    app.use(drop_slack_retries)
    app.use(attach_runtime)
    register_listeners(app)
    return app
