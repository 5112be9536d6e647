"""Real servers inside the test's event loop, each on a free port of 127.0.0.1: our ASGI app under uvicorn, and
the fakes of the outside world (aiohttp)."""

from __future__ import annotations

import asyncio
from typing import Any, Self

import httpx
import uvicorn
from aiohttp import web

from tests.waiting import wait_until


class Served:
    """An ASGI app under uvicorn; `async with` starts it (lifespan on) and opens `self.http` to it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                                    lifespan="on"))
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self.server.serve())
        await wait_until(lambda: self.server.started or self._task.done(), what="uvicorn start")  # type: ignore[union-attr]
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        self.http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}", timeout=10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()
        self.server.should_exit = True
        if self._task is not None:
            await self._task


async def start_site(app: web.Application) -> tuple[web.AppRunner, int]:
    """A fake's aiohttp app, serving: its runner (to clean up) and its port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
