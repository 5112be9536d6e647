"""What every Teams handler shares: the services, the connector, and getting an answer to one person privately.

Teams has no ephemeral messages, so a private answer always goes to the user's 1:1 chat with the bot; a command
typed in a channel or group chat gets only a short "answered privately" there. Use cases and database steps run
in threads: the event loop only receives activities and talks to the connector. Nothing here logs contents.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.runtime import Runner, Runtime, T
from bot.teams import dialogs, reach, render
from bot.teams.connector import Connector, message
from bot.teams.files import offer
from bot.teams.sdk import App
from commands.context import Services
from commands.reply import Invocation, Reply
from commands.router import dispatch
from storage import metrics
from storage import teams as refs
from storage.db import unit_of_work

PLATFORM = "teams"
NETWORK_ERRORS = (httpx.HTTPError, OSError, asyncio.TimeoutError)
_SEEN_CACHE = 5000
log = logging.getLogger(__name__)


@dataclass
class TeamsRuntime(Runtime):
    svc: Services
    app: App
    connector: Connector
    kick: Callable[[], None] = field(default=lambda: None)  # wake the outbox sender after a command
    runner: Runner | None = None  # the server's work pool (bot.work.Work); threads by default
    _seen: dict[tuple[str, str], refs.Seen] = field(default_factory=dict)
    # answers an open card shows
    shown: dialogs.OpenCardAnswers = field(default_factory=lambda: dialogs.OpenCardAnswers(600))

    def __post_init__(self) -> None:
        self.shown = dialogs.OpenCardAnswers(float(self.svc.settings.teams_details_ttl))

    @property
    def tenant_id(self) -> str | None:
        return self.svc.settings.teams_tenant_id or None

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self.runner is not None:
            return await self.runner(fn, *args)
        return await asyncio.to_thread(fn, self.svc, *args)

    async def dispatch(self, inv: Invocation) -> Reply:
        refusal = await self.too_fast(inv)
        if refusal is not None:
            metrics.command(PLATFORM, refusal.command, refusal.outcome)
            return refusal
        try:
            reply = await self.run(dispatch, inv)
            metrics.command(PLATFORM, reply.command, reply.outcome)
            return reply
        except Exception as exc:  # noqa: BLE001 — dispatch never raises; this is the thread itself failing
            metrics.command(PLATFORM, "unknown", "crashed")
            return self.crashed(exc)
        finally:
            self.kick()

    # -- conversation references ---------------------------------------------------------------------------
    async def remember(self, seen: list[refs.Seen]) -> None:
        """Store where these users/channels can be reached; a repeat of what this process saw is skipped."""
        fresh = [s for s in seen if self._seen.get((s.kind, s.key)) != s]
        if not fresh:
            return
        now = self.svc.clock.now()
        released = False
        for s in fresh:
            try:
                released |= await asyncio.to_thread(refs.remember, self.svc.engine, s, now)
            except Exception as exc:  # noqa: BLE001 — e.g. the database is away: the command still gets its answer
                log.warning("could not remember a conversation reference (%s)", type(exc).__name__)
                return
            if len(self._seen) >= _SEEN_CACHE:
                self._seen.clear()
            self._seen[(s.kind, s.key)] = s
        if released:
            self.kick()  # messages that waited for this user or channel can go now

    def _names(self, ids: set[str]) -> dict[str, str]:
        with unit_of_work(self.svc.engine) as session:
            return refs.names(session, ids)

    def resolve_teams_user(self, teams_user_id: str) -> str | None:
        with unit_of_work(self.svc.engine) as session:
            return refs.user_for_teams_id(session, teams_user_id)

    async def card(self, reply: Reply, user_id: str, command: str = "", *, full: bool = False) -> dict[str, Any]:
        """The card of a reply in `user_id`'s 1:1 chat: their files are offered to them. A form or an answer with
        details becomes an open card (bot/teams/dialogs.py) unless `full` (the dialog itself)."""
        if not full and dialogs.in_dialog(reply):
            return dialogs.open_card(reply, command, self.lang, self.shown.keep(user_id, reply))
        if reply.form is not None:
            return render.form_card(reply.form, self.lang, reply.text)
        if reply.command == "home":
            return await self.home_card(reply, user_id)
        ids = render.mentioned_ids(reply)
        names = await asyncio.to_thread(self._names, ids) if ids else {}
        files = await asyncio.to_thread(offer, self.svc, user_id, reply.attachments) if reply.attachments else []
        return render.reply_card(reply, self.lang, names, files=files)

    async def home_card(self, reply: Reply, user_id: str) -> dict[str, Any]:
        """The home overview as a card that refreshes for the member who looks at it (Universal Actions)."""
        names = await asyncio.to_thread(self._names, render.mentioned_ids(reply))
        ref = await asyncio.to_thread(self._ref, user_id)
        return render.home_card(reply, self.lang, names, [ref.teams_user_id] if ref and ref.teams_user_id else [])

    def _ref(self, user_id: str) -> refs.Ref | None:
        with unit_of_work(self.svc.engine) as session:
            return refs.find(session, refs.USER, user_id)

    async def activity(self, reply: Reply, user_id: str, command: str = "") -> Any:
        text = render.fallback_text(reply) if not dialogs.in_dialog(reply) else dialogs.reference(reply, command) or " "
        return message(await self.card(reply, user_id, command), text)

    async def send_private(self, user_id: str, reply: Reply, command: str = "") -> bool:
        """Post a reply into the user's 1:1 chat; False when it cannot be reached."""
        try:
            where = await reach.personal(self.svc, self.connector, user_id)
            if where is None:
                log.warning("no 1:1 chat known for Teams user %s: the app is not installed for them", user_id)
                return False
            await self.connector.post(where[0], where[1], await self.activity(reply, user_id, command))
            return True
        except NETWORK_ERRORS as exc:
            log.warning("private answer to Teams user %s failed (%s)", user_id, _status(exc))
            return False


def _status(exc: BaseException) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    return type(exc).__name__
