"""Where a message goes in Teams: a member's 1:1 chat with the bot, or a configured channel.

Both need a stored conversation reference (storage/teams.py) for the service URL. A user who has only ever
spoken in a channel gets their 1:1 chat opened on first need; a user Teams never told us about cannot be
reached until the app is installed for them.
"""

from __future__ import annotations

import asyncio

from bot.teams.connector import Connector
from commands.context import Services
from storage import teams as refs
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
