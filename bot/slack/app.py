"""Build the bolt AsyncApp: clients, the two middlewares (bot/slack/ack.py), the listeners. Nothing else lives here."""

from __future__ import annotations

import logging
import secrets

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.slack.ack import Attach, DropRetries
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

    async def one_line(error: Exception) -> BoltResponse:
        # Bolt's default logs the whole traceback and the error's message, which may quote the payload.
        error_id = secrets.token_hex(4)
        log.error("Slack request failed (%s) error_id=%s", type(error).__name__, error_id)
        return BoltResponse(status=400, body="")

    app.error(one_line)
    app.use(DropRetries())
    app.use(Attach(CONTEXT_KEY, runtime))
    register_listeners(app)
    return app
