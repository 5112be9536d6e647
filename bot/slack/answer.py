"""The work after the ack, as whole jobs for the work pool: run the use case, then answer the user.

Each job runs synchronously on a loop of its own (in a work process under `serve`, in a thread in tests),
so the server's event loop does nothing per request but verify, ack and hand over.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.slack import render
from bot.slack.clients import interactive_client
from bot.slack.messaging import send_private, show
from commands.context import Services
from commands.home import home
from commands.reply import Invocation, Reply
from commands.router import dispatch

log = logging.getLogger(__name__)


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


def _run(what: str, job: Callable[[], Awaitable[None]]) -> None:
    """The use case has already committed: a failure to answer is logged, never reported as "nothing changed"."""
    try:
        asyncio.run(job())
    except Exception as exc:  # noqa: BLE001
        log.warning("could not deliver the %s to Slack (%s)", what, type(exc).__name__)


def answer(svc: Services, reply: Reply, where: Where) -> None:
    client = interactive_client(svc.settings)
    _run("reply", lambda: show(client, svc.lang, reply, user_id=where.user_id, channel_id=where.channel_id,
                               response_url=where.response_url, trigger_id=where.trigger_id))


def answer_privately(svc: Services, reply: Reply, where: Where) -> None:
    """A reply that must not open a modal (e.g. after a modal was submitted)."""
    client = interactive_client(svc.settings)
    _run("reply", lambda: send_private(client, svc.lang, reply, user_id=where.user_id,
                                       channel_id=where.channel_id, response_url=where.response_url))


def publish_home(svc: Services, user_id: str) -> None:
    view = render.home_view(home(svc, user_id), svc.lang)
    client = interactive_client(svc.settings)

    async def publish() -> None:
        await client.views_publish(user_id=user_id, view=view)

    _run("App Home", publish)
