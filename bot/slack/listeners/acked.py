"""`acked_first`: bolt answers Slack's HTTP request when a listener returns (`process_before_response=True`);
this runs the listener as a task and returns as soon as it has acked, so the ack leaves at once — without bolt's
10 ms polling for it — and the work goes on after the answer (docs/benchmarks.md, "Slack ack latency")."""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)
_running: set[asyncio.Task[Any]] = set()  # the listeners still working after their ack (kept from the GC)


def _after(task: asyncio.Task[Any]) -> None:
    _running.discard(task)
    if not task.cancelled() and (exc := task.exception()) is not None:
        # After the ack there is no HTTP answer left to carry the error: one line, never the payload.
        log.error("Slack listener failed after its ack (%s) error_id=%s", type(exc).__name__, secrets.token_hex(4))


def acked_first(listener: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """Run `listener` as a task; return when it has called `ack` (or ended, or never takes an `ack`: an event,
    which bolt acknowledges itself). An exception before the ack reaches bolt's error handler as before."""

    @functools.wraps(listener)  # bolt reads the wrapped listener's parameter names to pass its arguments
    async def run(**kwargs: Any) -> None:
        acked = asyncio.Event()
        if (ack := kwargs.get("ack")) is not None:
            async def ack_then_tell(*args: Any, **options: Any) -> Any:
                try:
                    return await ack(*args, **options)
                finally:
                    acked.set()

            kwargs["ack"] = ack_then_tell
        task = asyncio.ensure_future(listener(**kwargs))
        if ack is None:
            _running.add(task)
            task.add_done_callback(_after)
            return
        waiter = asyncio.ensure_future(acked.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if not acked.is_set():
            task.result()  # ended without an ack: its error, if any, goes to bolt's error handler, as before
            return
        _running.add(task)  # acked: whatever it does or raises from here on happens after the answer
        task.add_done_callback(_after)

    return run

