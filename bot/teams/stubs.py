"""Messages that had to carry case details into a Teams chat (a proactive DM cannot open a dialog) are replaced
by a stub — "shown at 10.12 — open again" — once TEAMS_DETAILS_TTL has passed, through the connector's update
activity call (PUT /v3/conversations/{id}/activities/{activityId}).

What to replace is in the database (storage/teams_tables.py: ids and times, no contents), and every delivery pass
— the server's loop and the worker's — replaces what is due, so a restart loses nothing. Microsoft 365 keeps
the message's earlier version for as long as the tenant's retention policy keeps edited messages: see
docs/teams.md, "What stays in Microsoft 365".
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import httpx

from bot.teams import dialogs
from bot.teams.connector import Connector, message
from bot.teams.runtime import NETWORK_ERRORS
from commands.context import Services
from commands.reply import Reply
from commands.time.timefmt import clock as clock_text
from storage import teams_tables

log = logging.getLogger(__name__)
GONE = (403, 404)  # the message or the chat is gone: nothing left to replace


def reopen_command(reply: Reply) -> str:
    """What the stub's *Open again* runs: the message's own dialog button, else the case it is about."""
    from bot.teams import render

    for button in reply.buttons:
        if button.command and render.opens_dialog(button):
            return button.command
    ref = dialogs.reference(reply, "")
    return f"case show {ref}" if ref.startswith("KE-") else ""


async def remember(svc: Services, user_id: str, where: tuple[str, str], activity_id: str, reply: Reply) -> None:
    """A DM with details was posted: stub it after TEAMS_DETAILS_TTL."""
    ttl = timedelta(seconds=svc.settings.teams_details_ttl)
    await asyncio.to_thread(teams_tables.record_shown, svc.engine, user_id, where[0], where[1], activity_id,
                            reopen_command(reply), svc.clock.now(), ttl)


async def replace_due(svc: Services, connector: Connector, now: datetime | None = None) -> int:
    """Replace every message whose time is up by its stub; returns how many were replaced."""
    now = now or svc.clock.now()
    due = await asyncio.to_thread(teams_tables.due_stubs, svc.engine, now)
    if not due:
        return 0
    cal = await asyncio.to_thread(svc.calendar)
    lang, tz = cal.lang, cal.tz
    done = 0
    for row in due:
        shown = clock_text(row.shown_at.astimezone(tz), lang)
        card = dialogs.stub_card(lang, shown, row.reopen)
        try:
            await connector.update(row.service_url, row.conversation_id, row.activity_id, message(card, " "))
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code not in GONE:
                log.warning("stubbing Teams message %s failed (HTTP %s)", row.id, exc.response.status_code)
                continue
        except NETWORK_ERRORS as exc:
            log.warning("stubbing Teams message %s failed (%s)", row.id, type(exc).__name__)
            continue
        assert row.id is not None
        await asyncio.to_thread(teams_tables.stubbed, svc.engine, row.id)
        done += 1
    return done
