"""A background pass that runs every `interval` seconds and soon after a kick; shared by the outbox loops."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


class KickedLoop:
    """Subclasses say what one pass does; a burst of kicks within `coalesce` seconds makes one pass."""

    name = "pass"

    def __init__(self, interval: float, coalesce: float) -> None:
        self.interval, self.coalesce = interval, min(coalesce, interval)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def one_pass(self) -> None:
        raise NotImplementedError

    def kick(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            except TimeoutError:
                pass
            else:
                await asyncio.sleep(self.coalesce)  # a burst of commands → one pass, not one per command
            self._wake.clear()
            try:
                await self.one_pass()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 — the loop must outlive a database or platform hiccup
                log.error("%s failed (%s)", self.name, type(exc).__name__)
