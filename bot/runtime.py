"""What the Slack and Teams runtimes share: use cases run off the event loop, the outbox is nudged after each,
and a failure of the work itself reaches the user as an error id (the log keeps the exception type, no contents).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from commands.context import Services
from commands.members.limits import CommandRate, slowed
from commands.messages import t
from commands.reply import FormResult, Invocation, Reply
from commands.router import submit_form

T = TypeVar("T")
Runner = Callable[..., Awaitable[Any]]  # `await work(fn, *args)` runs fn(svc, *args) off the loop (bot.work)
log = logging.getLogger(__name__)


class Runtime:
    svc: Services
    kick: Callable[[], None]  # wake the outbox sender after a command
    _rate: CommandRate | None = None

    async def too_fast(self, inv: Invocation) -> Reply | None:
        """None while the user keeps within COMMAND_RATE; else the polite answer (the first one audited)."""
        if self._rate is None:
            self._rate = CommandRate(self.svc.settings.command_rate)
        now = self.svc.clock.now()
        if self._rate.allow(inv.user_id, now):
            return None
        audited = self._rate.first_refusal(inv.user_id, now)
        try:
            return await self.run(slowed, inv, audited)
        except Exception as exc:  # noqa: BLE001 — e.g. the database is away: slow the user down all the same
            log.warning("could not audit a slowed command (%s)", type(exc).__name__)
            return Reply(text=t(self.lang, "limit.command_rate", rate=self.svc.settings.command_rate), ok=False,
                         command="unknown", outcome="refused")

    @property
    def lang(self) -> str:
        return self.svc.lang

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(svc, *args)`, off the event loop."""
        raise NotImplementedError

    async def submit(self, inv: Invocation, form_id: str, values: dict[str, str],
                     context: dict[str, str]) -> FormResult:
        try:
            return await self.run(submit_form, inv, form_id, values, context)
        except Exception as exc:  # noqa: BLE001 — submit_form never raises; this is the pool failing
            return FormResult(reply=self.crashed(exc))
        finally:
            self.kick()

    def crashed(self, exc: BaseException) -> Reply:
        error_id = secrets.token_hex(4)
        log.error("work failed (%s) error_id=%s", type(exc).__name__, error_id, extra={"error_id": error_id})
        return Reply(text=t(self.lang, "crash", error_id=error_id), ok=False)
