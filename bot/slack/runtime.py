"""What every Slack listener shares: the services, and the nudge that wakes the outbox dispatcher.

Listeners get it from the bolt context (app.py installs it with a middleware), so `register(app)` stays
the only wiring a listener module needs.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from commands.context import Services
from commands.reply import FormResult, Invocation, Reply
from commands.router import dispatch, submit_form

CONTEXT_KEY = "koordinator"
PLATFORM = "slack"
# Few threads on purpose: every busy worker thread competes with the event loop for the GIL, and the loop
# is what acks Slack within its 3 seconds. Two are plenty for this unit's volume (SQLite serialises writers
# anyway); see docs/benchmarks.md.
WORK_THREADS = 2
_work = ThreadPoolExecutor(max_workers=WORK_THREADS, thread_name_prefix="koordinator-work")
T = TypeVar("T")


async def run_blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a synchronous use case or storage call off the event loop, on the small work pool."""
    return await asyncio.get_running_loop().run_in_executor(_work, functools.partial(fn, *args, **kwargs))


@dataclass
class SlackRuntime:
    svc: Services
    kick: Callable[[], None] = field(default=lambda: None)  # wake the outbox dispatcher after a command

    @property
    def lang(self) -> str:
        return self.svc.lang

    async def dispatch(self, inv: Invocation) -> Reply:
        """Use cases are synchronous (one DB transaction each): off the event loop, which only acks."""
        try:
            return await run_blocking(dispatch, self.svc, inv)
        finally:
            self.kick()

    async def submit(self, inv: Invocation, form_id: str, values: dict[str, str],
                     context: dict[str, str]) -> FormResult:
        try:
            return await run_blocking(submit_form, self.svc, inv, form_id, values, context)
        finally:
            self.kick()


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
