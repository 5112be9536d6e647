"""The one ASGI server (`python -m bot serve`): Slack (HTTP or Socket Mode), health, and room for the other
adapters' routes. Misconfiguration stops it before it binds a port, with a message instead of a traceback.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import aiohttp
import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from sqlalchemy.exc import SQLAlchemyError

from bot import calendar_feed, edge, pages, teams
from bot.slack import edge as slack_edge
from bot.slack.app import build_app
from bot.slack.delivery import DeliveryLoop
from bot.slack.runtime import SlackRuntime
from bot.work import Work
from commands.context import Services
from commands.services import build_services, language_problem
from scheduler.worker import SWEEP_SECONDS, due_now
from storage import metrics
from storage.crypto import KeyMaterialError
from storage.db import needs_migration
from storage.logs import say, uvicorn_log_config
from storage.settings import Settings

log = logging.getLogger(__name__)

HOST = "0.0.0.0"  # noqa: S104 — a server behind the platform's router; bind every interface


def slack_mode(settings: Settings) -> str:
    if not settings.slack_bot_token:
        return "off"
    return "socket" if settings.slack_app_token else "http"


def config_problem(settings: Settings) -> str | None:
    """What keeps `serve` from starting, in words an operator can act on; None when all is well."""
    language = language_problem(settings)
    if language:
        return language
    teams_problem = teams.config_problem(settings)
    if teams_problem:
        return teams_problem
    wants_slack = bool(settings.slack_bot_token or settings.slack_signing_secret or settings.slack_app_token)
    if wants_slack and not settings.slack_bot_token:
        return "SLACK_BOT_TOKEN (xoxb-…) is required for Slack (OAuth & Permissions → Bot User OAuth Token)."
    if wants_slack and not settings.slack_app_token and not settings.slack_signing_secret:
        return ("SLACK_SIGNING_SECRET is required for Slack over HTTP (Basic Information → App Credentials → "
                "Signing Secret). For Socket Mode set SLACK_APP_TOKEN (xapp-…) instead.")
    if not wants_slack and not settings.has_teams and not settings.koordinator_dev:
        return ("Nothing to serve: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (Slack over HTTP), or "
                "SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode) — see docs/slack.md.")
    return None


def _database_status(svc: Services) -> dict[str, str]:
    try:
        outdated = needs_migration(svc.engine)
    except SQLAlchemyError as exc:
        return {"database": "unavailable", "error": type(exc).__name__}
    return {"database": "ok", "schema": "outdated" if outdated else "current"}


def create_app(svc: Services, *, delivery_interval: float = 2.0, work_processes: int = 0,
               with_worker: bool = False) -> FastAPI:
    """The ASGI app. With a bot token it serves Slack; the outbox sender runs while the app lives.

    `work_processes` > 0 runs use cases in that many worker processes (serve does), else in threads (tests:
    an injected clock only exists in this process). `with_worker` also runs the follow-up sweep in-process,
    for a single-process deployment (`python -m bot` alone); with the Procfile, `worker` does it instead.
    """
    settings = svc.settings
    mode = slack_mode(settings)
    work = Work(svc, processes=work_processes)
    delivery: DeliveryLoop | None = None
    bolt = None
    if mode != "off":
        delivery = DeliveryLoop(svc, work, delivery_interval)
        bolt = build_app(SlackRuntime(svc, work, kick=delivery.kick))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        socket: AsyncSocketModeHandler | None = None
        connecting: asyncio.Task[None] | None = None
        await work.start()
        # One connection pool for the Slack calls made here (work processes have their own).
        http = aiohttp.ClientSession()
        if bolt is not None:
            bolt.client.session = http
        if delivery is not None:
            delivery.start()
        sweeper = _start_sweeper(work) if with_worker else None
        if bolt is not None and mode == "socket":
            # In the background: the SDK keeps retrying until Slack answers, and /healthz should serve meanwhile.
            socket = AsyncSocketModeHandler(bolt, settings.slack_app_token)
            connecting = asyncio.create_task(socket.connect_async(), name="slack-socket-mode")
        try:
            yield
        finally:
            if connecting is not None:
                connecting.cancel()
            if socket is not None:
                await socket.close_async()
            if sweeper is not None:
                sweeper.shutdown(wait=False)
            if delivery is not None:
                await delivery.stop()
            await http.close()
            work.stop()

    app = FastAPI(title="koordinator", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.svc, app.state.bolt, app.state.delivery, app.state.work = svc, bolt, delivery, work

    edge.install(app)
    if bolt is not None and mode == "http":
        handler = AsyncSlackRequestHandler(bolt)
        edge.install(app, "/slack/events", slack_edge.check(settings.slack_signing_secret or ""))

        @app.post("/slack/events")
        async def slack_events(request: Request) -> Response:
            return await handler.handle(request)

    calendar_feed.register(app, svc)

    @app.get("/privacy")
    @app.get("/terms")
    async def legal(request: Request) -> Response:
        """The privacy notice and terms of use the Teams app package links to (bot/pages.py), Danish or English."""
        name = request.url.path.strip("/")
        lang = pages.language(request.query_params.get("lang"), request.headers.get("accept-language"),
                              settings.bot_language)
        body = await asyncio.to_thread(pages.page, name, lang, settings)
        return Response(body, media_type="text/html; charset=utf-8",
                        headers={"Content-Language": lang, "Cache-Control": "public, max-age=3600",
                                 "Vary": "Accept-Language"})

    if teams.wanted(settings):
        teams.register(app, svc, work=work, delivery_interval=delivery_interval)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        """Liveness: the process answers. Cheap on purpose — no database; a restart would not fix one."""
        return JSONResponse({"status": "ok", "slack": mode,
                             "teams": teams.auth_mode(settings) if teams.wanted(settings) else "off"})

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        """Readiness: 503 while the database is unreachable or its schema is behind, so traffic goes elsewhere."""
        db = await asyncio.to_thread(_database_status, svc)
        ok = db == {"database": "ok", "schema": "current"}
        return JSONResponse({"status": "ready" if ok else "not ready", **db}, status_code=200 if ok else 503)

    @app.get("/metrics")
    async def metrics_endpoint(request: Request) -> Response:
        if not metrics.authorised(settings.metrics_token, request.headers.get("authorization")):
            return Response("unauthorized\n", status_code=401, media_type="text/plain",
                            headers={"WWW-Authenticate": "Bearer"})
        await asyncio.to_thread(metrics.refresh, svc.engine, svc.clock.now(), metrics.channel_platform(settings))
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})

    return app


def _start_sweeper(work: Work) -> AsyncIOScheduler:
    """The worker's jobs (sweep, meetings, digest) every 30 s on the running loop, run on the work pool."""
    scheduler = AsyncIOScheduler()

    async def job() -> None:
        try:
            with metrics.Timer() as timer:
                result = await work(due_now)
            metrics.swept(timer.seconds, result.reminded, work.svc.clock.now())
        except Exception as exc:  # noqa: BLE001 — the next run retries
            log.error("sweep failed: %s", type(exc).__name__)

    scheduler.add_job(job, "interval", seconds=SWEEP_SECONDS, max_instances=1, coalesce=True,
                      next_run_time=datetime.now(UTC))
    scheduler.start()
    return scheduler


def _refuse(message: str) -> int:
    say(f"cannot start: {message}")
    return 2


MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter


def few_malloc_arenas() -> bool:
    """glibc gives each thread that allocates its own malloc arena (up to 8 per core), and every arena keeps
    its freed memory: with a work process's threads that is tens of MB that is never given back. Two arenas for
    this process and the work processes forked from it (set before any thread starts). False where the C
    library is not glibc."""
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, MALLOC_ARENAS))
    except (OSError, AttributeError):
        return False


def serve(settings: Settings, *, with_worker: bool = False) -> int:
    problem = config_problem(settings)
    if problem:
        return _refuse(problem)
    try:
        svc = build_services(settings, allow_generated_keys=settings.koordinator_dev)
    except KeyMaterialError as exc:
        return _refuse(f"{exc}. For local testing only, KOORDINATOR_DEV=1 generates keys into a private file.")
    except SQLAlchemyError as exc:
        return _refuse(f"the database is not reachable ({type(exc).__name__}); check DATABASE_URL.")
    mode = slack_mode(settings)
    where = {"http": "Slack over HTTP at POST /slack/events", "socket": "Slack over Socket Mode",
             "off": "no Slack"}[mode]
    if teams.wanted(settings):
        where += f", Teams at POST /api/messages ({teams.auth_mode(settings)})"
    say(f"serving on port {settings.port} — {where}, GET /healthz, GET /readyz"
        + (", GET /metrics" if settings.metrics_token else ""))
    # No access log: request paths can carry secrets (calendar feed tokens).
    app = create_app(svc, work_processes=settings.work_processes, with_worker=with_worker)
    server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=settings.port, access_log=False, log_level="info",
                                           log_config=uvicorn_log_config(settings.log_format)))
    # Everything imported and built so far lives as long as the process: keep it out of the garbage
    # collector's full passes, which otherwise stall the event loop (and every ack) for a quarter second.
    gc.collect()
    gc.freeze()
    few_malloc_arenas()
    # The work processes are forked now, sharing these pages, before the server starts its threads.
    app.state.work.prefork()
    server.run()
    return 0 if server.started else 1
