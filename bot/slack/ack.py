"""bolt middlewares written as classes: bolt calls a class middleware's `async_process(req=, resp=, next=)`
directly, where a function middleware costs it building every injectable argument on each request — work
on the event loop that every ack waits behind.

`AckAtOnce` is the listener middleware of the listeners whose ack is empty (slash commands, buttons). bolt's
default starts the listener as a task on the event loop and checks every 10 ms whether it has called `ack()`;
on a loop busy with other requests the ack is often found only at the second check. `AckAtOnce` acks before
bolt starts the listener, so bolt answers Slack at once; the listener then runs exactly as bolt runs it by
default, after the ack (its own `ack()` changes nothing). A modal submission's ack may carry its errors, so it
is never acked here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

log = logging.getLogger(__name__)
Next = Callable[[], Awaitable[BoltResponse]]


class AckAtOnce(AsyncMiddleware):
    async def async_process(self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Next) -> BoltResponse | None:
        await req.context.ack()
        return await next()


class DropRetries(AsyncMiddleware):
    """Every request is acked at once, so a retry only means Slack did not see our ack in time: the first
    delivery is (being) handled; acting again would duplicate it."""

    async def async_process(self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Next) -> BoltResponse | None:
        if req.headers.get("x-slack-retry-num"):
            log.info("ignored Slack retry (%s)", (req.headers.get("x-slack-retry-reason") or ["?"])[0])
            return BoltResponse(status=200, body="")
        return await next()


class Attach(AsyncMiddleware):
    """Puts one value into every request's context (the runtime, under its key)."""

    def __init__(self, key: str, value: Any) -> None:
        self.key, self.value = key, value

    async def async_process(self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Next) -> BoltResponse | None:
        req.context[self.key] = self.value
        return await next()
