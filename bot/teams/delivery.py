"""The outbox dispatcher for Teams: reminders and notices through the stored conversation references.

The same rules as Slack's dispatcher (bot/slack/delivery.py): each row is claimed by a conditional UPDATE that
is committed before anything is sent (so several processes never send the same row), sent with one request,
and marked sent with the Teams activity id in its own short transaction right after. A failed row holds back
the later rows of its target, so a chat never sees messages out of order; 429 honours Retry-After, 5xx and
network errors back off exponentially, other client errors wait longer (a human has to fix something).

Rows for members on Teams are ours; channel rows too, but only when Slack is not configured (then Slack owns
the channels). Logs name row ids, targets and statuses only, never contents.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from bot.loop import KickedLoop
from bot.teams import reach, render
from bot.teams.connector import Connector, build_app, message
from bot.teams.runtime import NETWORK_ERRORS
from commands.context import Services
from commands.reply import Reply
from storage import outbox
from storage import teams as refs
from storage.db import unit_of_work
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=5)
MAX_CLIENT_ERROR_BACKOFF = timedelta(hours=1)  # e.g. the app was removed from the chat
DEFAULT_RETRY_AFTER = timedelta(seconds=30)
STALE_CLAIM = timedelta(minutes=5)  # a claim older than this belongs to a worker that died
MARK_ATTEMPTS = 3
SCAN_LIMIT = 500
COALESCE_S = 0.05
GONE = (404,)  # the message to update no longer exists: post a new one
_warned: set[str] = set()


@dataclass(frozen=True)
class _Row:
    id: int
    kind: str
    target: str
    attempts: int


@dataclass
class _Pass:
    due: list[_Row] = field(default_factory=list)
    blocked: set[tuple[str, str]] = field(default_factory=set)
    teams_users: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Claimed:
    payload: str
    replaces: str | None  # the activity id of the message this row updates, when that one was sent
    names: dict[str, str]


class Unreachable(Exception):
    """No conversation reference: Teams never told us about this user or channel."""


def backoff(attempts: int, cap: timedelta = MAX_BACKOFF) -> timedelta:
    """1 s, 2 s, 4 s … capped: quick recovery from a blip, no hammering during an outage."""
    return min(timedelta(seconds=2 ** min(attempts, 20)), cap)


def _retry_after(response: httpx.Response) -> timedelta:
    try:
        return timedelta(seconds=max(1, int(response.headers.get("Retry-After", ""))))
    except ValueError:
        return DEFAULT_RETRY_AFTER


def _plan(svc: Services, now: datetime) -> _Pass:
    plan = _Pass()
    with unit_of_work(svc.engine) as session:
        rows = outbox.unsent(session, SCAN_LIMIT)
        plan.teams_users = refs.teams_members(session, {r.target for r in rows if r.target_kind == "user"})
    for r in rows:
        key = (r.target_kind, r.target)
        stale = r.state == "sending" and r.claimed_at is not None and r.claimed_at < now - STALE_CLAIM
        if (r.state == "sending" and not stale) or (r.next_attempt_at > now and r.attempts > 0):
            plan.blocked.add(key)  # in flight elsewhere, or waiting for its retry: later rows wait too
        elif stale or r.next_attempt_at <= now:
            assert r.id is not None
            plan.due.append(_Row(r.id, r.target_kind, r.target, r.attempts))
    return plan


def channel_for(svc: Services, target: str) -> str | None:
    """A logical channel ("unit", "secretariat") → its Teams conversation id, from UNIT_CHANNEL and
    SECRETARIAT_CHANNEL (which hold Teams channel ids when Slack is not configured)."""
    logical = {"unit": svc.settings.unit_channel, "secretariat": svc.settings.secretariat_channel}
    return logical[target] if target in logical else target


def _claim(svc: Services, row_id: int, now: datetime) -> _Claimed | None:
    with unit_of_work(svc.engine) as session:
        row = session.get(OutboxMessage, row_id)
        if row is None or row.state not in ("pending", "sending"):
            return None
        was_stale = row.state == "sending"
        if not outbox.claim(session, row_id, now, STALE_CLAIM):
            return None
        if was_stale:
            log.warning("outbox row %s reclaimed after a stale claim: it may have been delivered already", row_id)
        replaces = None
        if row.replaces_id is not None:
            original = session.get(OutboxMessage, row.replaces_id)
            if original is not None and original.state == "sent" and original.external_id:
                replaces = original.external_id
        payload = outbox.payload(session, svc.vault, row)
        names = refs.names(session, render.mentioned_ids(Reply.from_json(payload)))
        return _Claimed(payload, replaces, names)


def _finish(svc: Services, row_id: int, now: datetime, external_id: str | None,
            delay: timedelta | None = None, error: str = "") -> None:
    with unit_of_work(svc.engine) as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        if delay is None:
            outbox.mark_sent(session, row, now, external_id)
        else:
            outbox.mark_retry(session, row, now, delay, error)


async def _send(svc: Services, connector: Connector, row: _Row, channel: str | None, claimed: _Claimed) -> str:
    where = await (reach.channel(svc, channel) if channel else reach.personal(svc, connector, row.target))
    if where is None:
        raise Unreachable
    reply = Reply.from_json(claimed.payload)
    activity = message(render.reply_card(reply, svc.lang, claimed.names), render.fallback_text(reply))
    if claimed.replaces:
        try:  # e.g. a reminder whose buttons give way to "done"
            return await connector.update(where[0], where[1], claimed.replaces, activity)
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code not in GONE:
                raise
    return await connector.post(where[0], where[1], activity)


async def _deliver_row(svc: Services, connector: Connector, row: _Row, channel: str | None,
                       now: datetime) -> bool | None:
    """True: sent. False: failed, retry scheduled. None: claimed by another worker first."""
    try:
        claimed = await asyncio.to_thread(_claim, svc, row.id, now)
    except Exception as exc:  # noqa: BLE001 — e.g. a payload that no longer decrypts: hold the target, go on
        log.error("outbox row %s to %s %s: cannot claim (%s)", row.id, row.kind, row.target, type(exc).__name__)
        return False
    if claimed is None:
        return None
    try:
        external_id = await _send(svc, connector, row, channel, claimed)
    except Unreachable:
        delay = backoff(row.attempts + 4, MAX_CLIENT_ERROR_BACKOFF)
        log.warning("outbox row %s to %s %s: no Teams conversation reference (install the app for them), retry "
                    "in %ss", row.id, row.kind, row.target, int(delay.total_seconds()))
        await asyncio.to_thread(_finish, svc, row.id, now, None, delay, refs.NO_REFERENCE)
        return False
    except httpx.HTTPStatusError as exc:
        status = exc.response.status_code
        if status == 429:
            delay = _retry_after(exc.response)
        elif status >= 500:
            delay = backoff(row.attempts)
        else:
            delay = backoff(row.attempts + 4, MAX_CLIENT_ERROR_BACKOFF)
        log.warning("outbox row %s to %s %s: HTTP %s, retry in %ss", row.id, row.kind, row.target, status,
                    int(delay.total_seconds()))
        await asyncio.to_thread(_finish, svc, row.id, now, None, delay, f"HTTP {status}")
        return False
    except NETWORK_ERRORS as exc:
        delay = backoff(row.attempts)
        log.warning("outbox row %s to %s %s: %s, retry in %ss", row.id, row.kind, row.target,
                    type(exc).__name__, int(delay.total_seconds()))
        await asyncio.to_thread(_finish, svc, row.id, now, None, delay, type(exc).__name__)
        return False
    except Exception as exc:  # noqa: BLE001 — nothing was posted; retry later rather than wedge the queue
        delay = backoff(row.attempts + 4, MAX_CLIENT_ERROR_BACKOFF)
        log.error("outbox row %s to %s %s: %s, retry in %ss", row.id, row.kind, row.target,
                  type(exc).__name__, int(delay.total_seconds()))
        await asyncio.to_thread(_finish, svc, row.id, now, None, delay, type(exc).__name__)
        return False
    await _mark_sent(svc, row, now, external_id)
    return True


async def _mark_sent(svc: Services, row: _Row, now: datetime, external_id: str) -> None:
    """Teams has the message now: a few quick attempts at recording that, to keep the duplicate window short."""
    for attempt in range(MARK_ATTEMPTS):
        try:
            await asyncio.to_thread(_finish, svc, row.id, now, external_id)
            log.info("outbox row %s to %s %s: sent", row.id, row.kind, row.target)
            return
        except Exception as exc:  # noqa: BLE001
            log.error("outbox row %s delivered but not yet marked sent (%s)", row.id, type(exc).__name__)
            if attempt + 1 == MARK_ATTEMPTS:
                raise
            await asyncio.sleep(0.5 * (attempt + 1))


async def deliver_pending(svc: Services, connector: Connector, *, now: datetime | None = None) -> int:
    """Deliver every due outbox row meant for Teams; returns how many were sent in this pass.

    User rows for members on other platforms are left for their adapter; channel rows are ours only when
    Slack is not configured.
    """
    now = now or svc.clock.now()
    channels = not svc.settings.has_slack
    plan = await asyncio.to_thread(_plan, svc, now)
    sent = 0
    for row in plan.due:
        key = (row.kind, row.target)
        if key in plan.blocked:
            continue
        channel: str | None = None
        if row.kind == "channel":
            if not channels:
                continue
            channel = channel_for(svc, row.target)
            if not channel:
                if row.target not in _warned:
                    _warned.add(row.target)
                    log.warning("no Teams channel configured for %r (set %s_CHANNEL to its conversation id); its "
                                "posts stay queued", row.target, row.target.upper())
                plan.blocked.add(key)
                continue
        elif row.kind != "user" or row.target not in plan.teams_users:
            continue
        outcome = await _deliver_row(svc, connector, row, channel, now)
        if outcome:
            sent += 1
        else:  # failed, or another worker has this target's row: its later rows wait, to keep the order
            plan.blocked.add(key)
    return sent


_outbound: dict[tuple[str | None, str | None, str | None], Connector] = {}


async def deliver_with_settings(svc: Services) -> int:
    """One pass with a connector built from the settings: for the scheduler's worker process."""
    s = svc.settings
    key = (s.teams_app_id, s.teams_app_password, s.teams_tenant_id)
    if key not in _outbound:
        _outbound.clear()
        _outbound[key] = Connector(build_app(s))
    return await deliver_pending(svc, _outbound[key])


class DeliveryLoop(KickedLoop):
    """Runs a delivery pass every `interval` seconds, and soon after a kick (after each command)."""

    name = "teams-outbox"

    def __init__(self, svc: Services, connector: Connector, interval: float = 2.0,
                 coalesce: float = COALESCE_S) -> None:
        super().__init__(interval, coalesce)
        self.svc, self.connector = svc, connector

    async def one_pass(self) -> None:
        await deliver_pending(self.svc, self.connector)
