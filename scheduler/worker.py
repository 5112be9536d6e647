"""The worker: the sweep every 30 s and outbox delivery every few seconds, on APScheduler's asyncio loop.

All state lives in our own tables (follow-ups, outbox); APScheduler only keeps in-memory interval jobs,
so any number of workers can run side by side (SPEC.md §4: exactly once from the user's point of view).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import cast

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from commands.context import Services
from scheduler.jobs import JOBS
from scheduler.jobs.followups import SweepResult, sweep
from storage import metrics

log = logging.getLogger(__name__)
SWEEP_SECONDS = next(job.every for job in JOBS if job.name == "sweep")
DELIVERY_SECONDS = 3


Deliver = Callable[[Services], Awaitable[int]]  # one outbox delivery pass; the entry point hands in bot/'s


async def tick(svc: Services, now: datetime, deliver: Deliver) -> tuple[SweepResult, int]:
    """Every job due as of `now` (follow-ups, meetings and agendas, retention, the monthly digest), then one
    delivery pass."""
    result = await asyncio.to_thread(run_jobs, svc, now)
    return result, await deliver(svc)


def run_jobs(svc: Services, now: datetime,
             instead: dict[str, Callable[[Services, datetime], object]] | None = None) -> SweepResult:
    """Every job of JOBS as of `now`, in its order (`instead` swaps a job's function by name): the sweep's
    result, with the cases retention erased."""
    done = {job.name: (instead or {}).get(job.name, job.run)(svc, now) for job in JOBS}
    result = cast(SweepResult, done["sweep"])
    result.erased = cast(int, done["retention"])
    return result


def due_now(svc: Services) -> SweepResult:
    """Every job as of the service clock, in one call: the in-process worker of a server running alone (a
    module-level function, so it can be sent to a work process; the server times the call itself)."""
    return run_jobs(svc, svc.clock.now(), instead={"sweep": sweep})


def _guarded(name: str, job: Callable[[Services, datetime], object], svc: Services
             ) -> Callable[[], Awaitable[None]]:
    """One job on the work thread as of the service clock; a failure is logged and the next run retries."""
    async def run() -> None:
        try:
            await asyncio.to_thread(job, svc, svc.clock.now())
        except Exception as exc:  # noqa: BLE001 — keep the worker alive
            log.error("%s failed: %s", name, type(exc).__name__)

    return run


def add_jobs(scheduler: AsyncIOScheduler, svc: Services, deliver: Deliver) -> None:
    async def deliver_job() -> None:
        try:
            await deliver(svc)
        except Exception as exc:  # noqa: BLE001
            log.error("delivery failed: %s", type(exc).__name__)

    opts = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    for job in JOBS:
        scheduler.add_job(_guarded(job.name, job.run, svc), "interval", seconds=job.every, id=job.name,
                          next_run_time=datetime.now(), **opts)
    scheduler.add_job(deliver_job, "interval", seconds=DELIVERY_SECONDS, id="deliver", **opts)


async def start_metrics(svc: Services, host: str = "0.0.0.0") -> tuple[web.AppRunner, int] | None:  # noqa: S104
    """The worker's GET /metrics on METRICS_PORT (off unless set), for the same bearer METRICS_TOKEN as the
    web server's; returns the runner (to clean up) and the port it listens on."""
    settings = svc.settings
    if settings.metrics_port is None:
        return None
    if not settings.metrics_token:
        log.warning("METRICS_PORT is set but METRICS_TOKEN is not: the worker serves no metrics")
        return None

    async def scrape(request: web.Request) -> web.Response:
        if not metrics.authorised(settings.metrics_token, request.headers.get("Authorization")):
            return web.Response(status=401, text="unauthorized\n", headers={"WWW-Authenticate": "Bearer"})
        await asyncio.to_thread(metrics.refresh, svc.engine, svc.clock.now(), metrics.channel_platform(settings))
        body, content_type = metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": content_type, "Cache-Control": "no-store"})

    app = web.Application(client_max_size=1024)
    app.router.add_get("/metrics", scrape)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, settings.metrics_port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    log.warning("worker metrics on port %s: GET /metrics", port)
    return runner, port


async def run_forever(svc: Services, deliver: Deliver) -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")  # interval jobs only: the unit's zone is read per run (svc.calendar)
    add_jobs(scheduler, svc, deliver)
    scheduler.start()
    listener = await start_metrics(svc)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.warning("worker started: sweep every %ss, delivery every %ss", SWEEP_SECONDS, DELIVERY_SECONDS)
    await stop.wait()
    scheduler.shutdown(wait=False)
    if listener is not None:
        await listener[0].cleanup()
