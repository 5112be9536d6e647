"""The work after the ack, as whole jobs for the work pool: run the use case, then answer the user.

Each job runs synchronously (in a work process under `serve`, in a thread in tests), so the server's event
loop does nothing per request but verify, ack and hand over. The Slack calls of every job in a process go
through one long-lived event loop on a thread of its own, with one connection pool: a fresh loop, session
and TCP connection per answer cost more than the answer itself (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import render
from bot.slack.clients import interactive_client
from bot.slack.messaging import send_private, show
from commands.context import Services
from commands.guide.home import home
from commands.reply import Invocation, Reply
from commands.router import dispatch
from storage.settings import Settings

log = logging.getLogger(__name__)
ANSWER_TIMEOUT_S = 120  # a bound on one answer; the SDK's own HTTP timeout (30 s) and retries come first


@dataclass(frozen=True)
class Where:
    """Where the answer goes: ephemeral via response_url or chat.postEphemeral, a DM, or a modal."""

    user_id: str
    channel_id: str | None = None
    response_url: str | None = None
    trigger_id: str | None = None


def run_and_answer(svc: Services, inv: Invocation, where: Where) -> tuple[str, str]:
    """A slash command or button click: the use case, then its reply (a modal when it has a form). Returns the
    command's name and outcome, for the metrics kept by the serving process."""
    reply = dispatch(svc, inv)
    answer(svc, reply, where)
    return reply.command, reply.outcome


class _Answers:
    """This process's loop for Slack calls (a daemon thread) and its clients, one per token and API URL,
    sharing one aiohttp session."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        self._clients: dict[tuple[str | None, str], AsyncWebClient] = {}

    def _started(self) -> tuple[asyncio.AbstractEventLoop, aiohttp.ClientSession]:
        with self._lock:
            if self._loop is None or self._session is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="koordinator-slack-answers", daemon=True).start()

                async def session() -> aiohttp.ClientSession:  # made on the loop it will be used on
                    return aiohttp.ClientSession()

                self._session = asyncio.run_coroutine_threadsafe(session(), loop).result(timeout=10)
                self._loop = loop
                atexit.register(self.close)
            return self._loop, self._session

    def client(self, settings: Settings) -> AsyncWebClient:
        made = interactive_client(settings)
        key = (made.token, made.base_url)
        _loop, session = self._started()
        with self._lock:
            if key not in self._clients:
                made.session = session
                self._clients[key] = made
            return self._clients[key]

    def run(self, job: Callable[[], Awaitable[Any]]) -> None:
        loop, _session = self._started()
        future: Future[Any] = asyncio.run_coroutine_threadsafe(job(), loop)  # type: ignore[arg-type]
        future.result(timeout=ANSWER_TIMEOUT_S)

    def close(self) -> None:
        """At exit: close the session (and its connections) on its own loop, then stop the loop."""
        loop, session = self._loop, self._session
        if loop is None or not loop.is_running():
            return
        if session is not None:
            asyncio.run_coroutine_threadsafe(session.close(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)


_answers = _Answers()


def _run(what: str, job: Callable[[], Awaitable[Any]]) -> None:
    """The use case has already committed: a failure to answer is logged, never reported as "nothing changed"."""
    try:
        _answers.run(job)
    except Exception as exc:  # noqa: BLE001
        log.warning("could not deliver the %s to Slack (%s)", what, type(exc).__name__)


def answer(svc: Services, reply: Reply, where: Where) -> None:
    client = _answers.client(svc.settings)
    _run("reply", lambda: show(client, svc.lang, reply, user_id=where.user_id, channel_id=where.channel_id,
                               response_url=where.response_url, trigger_id=where.trigger_id))


def answer_privately(svc: Services, reply: Reply, where: Where) -> None:
    """A reply that must not open a modal (e.g. after a modal was submitted)."""
    client = _answers.client(svc.settings)
    _run("reply", lambda: send_private(client, svc.lang, reply, user_id=where.user_id,
                                       channel_id=where.channel_id, response_url=where.response_url))


def publish_home(svc: Services, user_id: str) -> None:
    view = render.home_view(home(svc, user_id), svc.lang)
    client = _answers.client(svc.settings)

    async def publish() -> None:
        await client.views_publish(user_id=user_id, view=view)

    _run("App Home", publish)
