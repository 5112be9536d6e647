"""Where a message goes in Teams: a member's 1:1 chat with the bot, or a configured channel.

Both need a stored conversation reference (storage/teams.py) for the service URL. A user who has only ever
spoken in a channel gets their 1:1 chat opened on first need; a user Teams never told us about cannot be
reached until the app is installed for them — which the bot does itself through Microsoft Graph where it may
(`install_missing`, bot/teams/graph.py).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import httpx

from bot.teams.connector import Connector
from bot.teams.graph import PERMISSION, Graph, GraphError
from commands.context import Services
from storage import teams as refs
from storage import teams_tables
from storage.db import unit_of_work

Where = tuple[str, str]  # (service URL, conversation id)


def _find(svc: Services, kind: str, key: str) -> refs.Ref | None:
    with unit_of_work(svc.engine) as session:
        return refs.find(session, kind, key)


def _service_url(svc: Services) -> str | None:
    with unit_of_work(svc.engine) as session:
        return refs.service_url_for(session, svc.settings.teams_tenant_id)


_opening: dict[str, asyncio.Lock] = {}


async def personal(svc: Services, connector: Connector, user_id: str) -> Where | None:
    ref = await asyncio.to_thread(_find, svc, refs.USER, user_id)
    if ref is None or (not ref.conversation_id and not ref.teams_user_id):
        return None
    if ref.conversation_id:
        return ref.service_url, ref.conversation_id
    # An answer and a queued reminder may both need the chat at once: open it once (per process; Teams
    # returns the same chat to a second process anyway).
    lock = _opening.setdefault(user_id, asyncio.Lock())
    try:
        async with lock:
            ref = await asyncio.to_thread(_find, svc, refs.USER, user_id)
            assert ref is not None and ref.teams_user_id is not None
            if ref.conversation_id:
                return ref.service_url, ref.conversation_id
            conversation = await connector.open_personal(ref.service_url, ref.tenant_id, ref.teams_user_id,
                                                         ref.bot_id)
            await asyncio.to_thread(refs.set_conversation, svc.engine, user_id, conversation, svc.clock.now())
            return ref.service_url, conversation
    finally:
        if not lock.locked():
            _opening.pop(user_id, None)


async def channel(svc: Services, conversation_id: str) -> Where | None:
    """A configured channel: its own reference once the bot has been added to the team, else the service URL
    Teams uses for this tenant's other conversations."""
    ref = await asyncio.to_thread(_find, svc, refs.CHANNEL, conversation_id.split(";")[0])
    if ref is not None:
        return ref.service_url, conversation_id
    service_url = await asyncio.to_thread(_service_url, svc)
    return None if service_url is None else (service_url, conversation_id)


RETRY_AFTER = timedelta(hours=1)  # a failed install (Graph away, a 5xx) is tried again this much later
_log = logging.getLogger(__name__)


def _record(svc: Services, user_id: str, state: str) -> None:
    """The outcome of one install; on a first 403, the secretariat is told — who, never what waited."""
    from commands import markup
    from commands.messages import t
    from commands.reply import Reply
    from storage import outbox

    now = svc.clock.now()
    with unit_of_work(svc.engine) as session:
        row = teams_tables.reach_mark(session, user_id, state, now)
        if state == "forbidden" and not row.told:
            row.told = True
            text = t(svc.calendar(session).lang, "teams.unreachable_notice", user=markup.mention(user_id),
                     permission=markup.code(PERMISSION))  # exactly as the admin types it in Entra
            outbox.enqueue(session, clock=svc.clock, vault=svc.vault, target_kind="channel", target="secretariat",
                           payload=Reply(text=text).to_json(), dedupe_key=f"teams-unreachable:{user_id}"[:128])


async def install_missing(svc: Services, graph: Graph | None) -> int:
    """Install the app, through Graph, for every member the bot cannot reach yet; returns how many installs Graph
    accepted (the conversationUpdate that follows brings each member's reference, and what waited goes out)."""
    if graph is None or not Graph.wanted(svc.settings):
        return 0
    due = await asyncio.to_thread(refs.reach_due, svc.engine, svc.clock.now(), RETRY_AFTER)
    installed = 0
    for user_id in due:
        try:
            status = await graph.install(user_id)
            state = "installed"
            installed += 1
            _log.info("installed the Teams app for %s through Graph (HTTP %s)", user_id, status)
        except GraphError as exc:
            state = "forbidden" if exc.status == 403 else "failed"  # 401: our credentials — the log says it
            _log.warning("could not install the Teams app for %s through Graph (%s)", user_id, exc)
        except (TimeoutError, httpx.HTTPError, OSError, ValueError, KeyError) as exc:
            state = "failed"
            _log.warning("could not install the Teams app for %s through Graph (%s)", user_id, type(exc).__name__)
        await asyncio.to_thread(_record, svc, user_id, state)
    return installed
