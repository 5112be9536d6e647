"""What every Slack listener shares: the services, the work pool, and the nudge that wakes the outbox
dispatcher.

Listeners get it from the bolt context (app.py installs it with a middleware), so `register(app)` stays
the only wiring a listener module needs.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.answer import Where, answer_privately, run_and_answer
from bot.slack.messaging import show
from bot.slack.work import Work
from commands.context import Services
from commands.messages import t
from commands.reply import FormResult, Invocation, Reply
from commands.router import submit_form

CONTEXT_KEY = "koordinator"
PLATFORM = "slack"
log = logging.getLogger(__name__)


@dataclass
class SlackRuntime:
    svc: Services
    work: Work
    kick: Callable[[], None] = field(default=lambda: None)  # wake the outbox dispatcher after a command

    @property
    def lang(self) -> str:
        return self.svc.lang

    async def handle(self, inv: Invocation, where: Where, client: AsyncWebClient) -> None:
        """Run the command and answer, as one job off the event loop (after the ack)."""
        try:
            await self.work(run_and_answer, inv, where)
        except Exception as exc:  # noqa: BLE001 — run_and_answer never raises; this is the pool failing
            await show(client, self.lang, self._crashed(exc), user_id=where.user_id, channel_id=where.channel_id,
                       response_url=where.response_url, trigger_id=None)
        finally:
            self.kick()

    async def submit(self, inv: Invocation, form_id: str, values: dict[str, str],
                     context: dict[str, str]) -> FormResult:
        try:
            return await self.work(submit_form, inv, form_id, values, context)
        except Exception as exc:  # noqa: BLE001
            return FormResult(reply=self._crashed(exc))
        finally:
            self.kick()

    async def answer_privately(self, reply: Reply, where: Where) -> None:
        await self.work(answer_privately, reply, where)

    def _crashed(self, exc: BaseException) -> Reply:
        error_id = secrets.token_hex(4)
        log.error("work failed (%s) error_id=%s", type(exc).__name__, error_id)
        return Reply(text=t(self.lang, "crash", error_id=error_id), ok=False)


def runtime_of(context: Any) -> SlackRuntime:
    return context[CONTEXT_KEY]


def invocation(user: dict[str, Any] | str, text: str, *, channel_id: str | None = None,
               request_id: str | None = None) -> Invocation:
    if isinstance(user, str):
        user_id, name = user, ""
    else:
        user_id, name = user.get("id", ""), user.get("username") or user.get("name") or ""
    return Invocation(user_id=user_id, text=text, platform=PLATFORM, channel_id=channel_id,
                      display_name=name[:128], request_id=request_id)
