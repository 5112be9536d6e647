"""The outbox for Teams: reminders and notices through the stored conversation references, by the shared
outbox sender (bot/outbox_sender.py) — the same claim, order, retry and exactly-once rules as Slack.

Rows for members on Teams are ours; channel rows too, but only when Slack is not configured (then Slack owns
the channels). What is Teams' here: where a row goes needs a conversation reference (a member Teams never told
us about cannot be reached until the app is installed for them), mentions need display names, and the
connector's HTTP status says when to retry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlmodel import Session

from bot import outbox_sender as dispatch
from bot.loop import KickedLoop
from bot.outbox_sender import COALESCE_S, Claimed, Failure, Hooks, Row
from bot.teams import reach, render, stubs
from bot.teams.connector import Connector, build_app, message
from bot.teams.files import offer_in
from bot.teams.graph import Graph
from bot.teams.runtime import NETWORK_ERRORS
from commands.context import Services
from commands.reply import Reply
from storage import teams as refs
from storage.models import OutboxMessage

log = logging.getLogger(__name__)
GONE = (404,)  # the message to update no longer exists: post a new one


class Unreachable(Exception):
    """No conversation reference: Teams never told us about this user or channel."""


def _retry_after(response: httpx.Response) -> timedelta | None:
    try:
        return timedelta(seconds=max(1, int(response.headers.get("Retry-After", ""))))
    except ValueError:
        return None


@dataclass(frozen=True)
class _Extra:
    names: dict[str, str]  # for the mentions
    files: list[str] | None  # a DM's files, offered to its user (None: a channel post)
    orgs: dict[str, str] | None = None  # the unit profile's orgs (code → name), for a Refer… button
    lang: str = "da"  # the unit's language, read in the claim's transaction


def _enrich(svc: Services, session: Session, row: OutboxMessage, reply: Reply) -> _Extra:
    """In the claim's transaction: the mentioned members' names and, for a DM, the offer of its files (keyed by
    the row, so a retried delivery offers the same files)."""
    names = refs.names(session, render.mentioned_ids(reply))
    lang = svc.calendar(session).lang
    orgs = None  # the referral is a form of its own now (commands/forms/table.py), opened by its button
    if row.target_kind != "user":
        return _Extra(names, None, orgs, lang)
    return _Extra(names, offer_in(session, svc, row.target, reply.attachments, key=f"outbox:{row.id}"), orgs, lang)


class TeamsOut:
    """The Teams side of the outbox sender (bot.outbox_sender.Platform)."""

    title = "Teams"
    hooks = Hooks(refs.PLATFORM, enrich=_enrich)
    network_errors = NETWORK_ERRORS
    channel_hint = " to its conversation id"

    def __init__(self, svc: Services, connector: Connector) -> None:
        self.svc, self.connector = svc, connector
        self.owns_channels = not svc.settings.has_slack

    async def send(self, row: Row, channel: str | None, claimed: Claimed) -> str:
        svc = self.svc
        where = await (reach.channel(svc, channel) if channel else reach.personal(svc, self.connector, row.target))
        if where is None:
            raise Unreachable
        reply = Reply.from_json(claimed.payload)
        extra: _Extra = claimed.extra
        activity = message(render.reply_card(reply, extra.lang, extra.names, orgs=extra.orgs, files=extra.files),
                           render.fallback_text(reply))
        if claimed.replaces:
            try:  # e.g. a reminder whose buttons give way to "done"
                return await self.connector.update(where[0], where[1], claimed.replaces, activity)
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code not in GONE:
                    raise
        sent = await self.connector.post(where[0], where[1], activity)
        if reply.details and not channel:  # case details in a chat: a stub after TEAMS_DETAILS_TTL
            try:
                await stubs.remember(self.svc, row.target, where, sent, reply)
            except Exception as exc:  # noqa: BLE001 — it is posted: a failure here must not post it again
                log.error("outbox row %s: posted, but its stub could not be scheduled (%s)", row.id,
                          type(exc).__name__)
        return sent

    def failure(self, exc: Exception) -> Failure | None:
        if isinstance(exc, Unreachable):
            return Failure(None, refs.NO_REFERENCE, hint="install the app for them")
        if isinstance(exc, httpx.HTTPStatusError):
            status = exc.response.status_code
            return Failure(status, f"HTTP {status}", _retry_after(exc.response) if status == 429 else None)
        return None


async def deliver_pending(svc: Services, connector: Connector, *, now: datetime | None = None,
                          graph: Graph | None = None) -> int:
    """Deliver every due outbox row meant for Teams, replace the messages with details whose time is up by their
    stubs (bot/teams/stubs.py), and install the app through Graph for members who cannot be reached yet
    (bot/teams/graph.py); returns how many rows were sent in this pass."""
    sent = await dispatch.deliver(svc, TeamsOut(svc, connector), now=now)
    steps = ((lambda: stubs.replace_due(svc, connector, now), "stubs"),
             (lambda: reach.install_missing(svc, graph), "reach"))
    for step, name in steps:
        try:
            await step()  # started only when its turn comes (a pass cancelled before it leaves nothing unawaited)
        except Exception as exc:  # noqa: BLE001 — e.g. the database is away: the next pass tries again
            log.error("Teams %s pass failed (%s)", name, type(exc).__name__)
    return sent


_outbound: dict[tuple[str | None, str | None, str | None], tuple[Connector, Graph]] = {}


async def deliver_with_settings(svc: Services) -> int:
    """One pass with a connector built from the settings: for the scheduler's worker process."""
    s = svc.settings
    key = (s.teams_app_id, s.teams_app_password, s.teams_tenant_id)
    if key not in _outbound:
        _outbound.clear()
        _outbound[key] = (Connector(build_app(s)), Graph(s))
    connector, graph = _outbound[key]
    return await deliver_pending(svc, connector, graph=graph)


class DeliveryLoop(KickedLoop):
    """Runs a delivery pass every `interval` seconds, and soon after a kick (after each command)."""

    name = "teams-outbox"

    def __init__(self, svc: Services, connector: Connector, interval: float = 2.0,
                 coalesce: float = COALESCE_S) -> None:
        super().__init__(interval, coalesce)
        self.svc, self.connector, self.graph = svc, connector, Graph(svc.settings)

    async def one_pass(self) -> None:
        await deliver_pending(self.svc, self.connector, graph=self.graph)
