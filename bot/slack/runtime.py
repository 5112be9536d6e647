"""What every Slack listener shares: the services, the work pool, and the nudge that wakes the
outbox sender.

Listeners get it from the bolt context (app.py installs it with a middleware), so `register(app)` stays
the only wiring a listener module needs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime, T
from bot.slack.answer import Where, answer, answer_privately, run_and_answer
from bot.slack.messaging import show
from bot.work import Work
from commands.context import Services
from commands.reply import Invocation, Reply
from storage import metrics

CONTEXT_KEY = "koordinator"
PLATFORM = "slack"
log = logging.getLogger(__name__)


@dataclass
class SlackRuntime(Runtime):
    svc: Services
    work: Work
    kick: Callable[[], None] = field(default=lambda: None)  # wake the outbox sender after a command

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.work(fn, *args)

    async def handle(self, inv: Invocation, where: Where, client: AsyncWebClient) -> None:
        """Run the command and answer, as one job off the event loop (after the ack)."""
        refusal = await self.too_fast(inv)
        if refusal is not None:
            metrics.command(PLATFORM, refusal.command, refusal.outcome)
            await self.work(answer, refusal, where)
            return
        try:
            name, outcome = await self.work(run_and_answer, inv, where)
            metrics.command(PLATFORM, name, outcome)
        except Exception as exc:  # noqa: BLE001 — run_and_answer never raises; this is the pool failing
            metrics.command(PLATFORM, "unknown", "crashed")
            await show(client, self.lang, self.crashed(exc), user_id=where.user_id, channel_id=where.channel_id,
                       response_url=where.response_url, trigger_id=None)
        finally:
            self.kick()

    async def answer_privately(self, reply: Reply, where: Where) -> None:
        await self.work(answer_privately, reply, where)


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
