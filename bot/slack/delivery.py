"""The outbox dispatcher for Slack: delivers queued channel posts and DMs, in order per target.

Each row is claimed (a conditional UPDATE, so several processes never send the same row), sent, and marked
sent with Slack's `ts` in its own short transaction right after the API call. The remaining gap — a crash
or lost connection after Slack accepted a message but before the mark — is described in docs/slack.md.
Logs name row ids, targets and statuses only, never contents.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import col, select

from bot.loop import KickedLoop
from bot.slack import render
from bot.slack.clients import delivery_client
from bot.slack.messaging import NETWORK_ERRORS, open_dm, upload
from commands.context import Services
from commands.reply import Reply
from storage import outbox
from storage.db import unit_of_work
from storage.models import Member, OutboxMessage

log = logging.getLogger(__name__)

PLATFORM = "slack"
MAX_BACKOFF = timedelta(minutes=5)
MAX_CLIENT_ERROR_BACKOFF = timedelta(hours=1)  # e.g. not_in_channel: waits for a human to fix it
DEFAULT_RETRY_AFTER = timedelta(seconds=30)
STALE_CLAIM = timedelta(minutes=5)  # a claim older than this belongs to a worker that died
MARK_ATTEMPTS = 3
SLACK_TS = re.compile(r"\d+\.\d+")
GONE = ("message_not_found", "cant_update_message", "edit_window_closed")
SCAN_LIMIT = 500
COALESCE_S = 0.05
_warned: set[str] = set()  # unconfigured channels already reported by this process


Runner = Callable[..., Awaitable[Any]]  # `await work(fn, *args)` runs fn(svc, *args) off the loop (bot.slack.work)


class _InThread:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def __call__(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(fn, self.svc, *args)


class _Inline(_InThread):
    """For a loop that serves nothing else (delivery_pass): no thread hop needed."""

    async def __call__(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(self.svc, *args)


@dataclass(frozen=True)
class _Row:
    id: int
    kind: str
    target: str
    attempts: int


@dataclass
class _Pass:
    """One sweep over the queue: which rows to try, and which targets are held back."""

    due: list[_Row] = field(default_factory=list)
    blocked: set[tuple[str, str]] = field(default_factory=set)
    slack_users: set[str] = field(default_factory=set)


def backoff(attempts: int, cap: timedelta = MAX_BACKOFF) -> timedelta:
    """1 s, 2 s, 4 s … capped: quick recovery from a blip, no hammering during an outage."""
    return min(timedelta(seconds=2 ** min(attempts, 20)), cap)


def _retry_after(exc: SlackApiError) -> timedelta:
    headers = exc.response.headers or {}
    raw = headers.get("Retry-After") or headers.get("retry-after")
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    try:
        return timedelta(seconds=max(1, int(str(raw))))
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER


def _plan(svc: Services, now: datetime) -> _Pass:
    plan = _Pass()
    with unit_of_work(svc.engine) as session:
        rows = outbox.unsent(session, SCAN_LIMIT)
        user_ids = {r.target for r in rows if r.target_kind == "user"}
        if user_ids:
            plan.slack_users = set(session.exec(select(Member.user_id).where(
                col(Member.user_id).in_(user_ids), Member.platform == PLATFORM, Member.active == True)))  # noqa: E712
    for r in rows:
        key = (r.target_kind, r.target)
        stale = r.state == "sending" and r.claimed_at is not None and r.claimed_at < now - STALE_CLAIM
        if (r.state == "sending" and not stale) or (r.next_attempt_at > now and r.attempts > 0):
            plan.blocked.add(key)  # in flight elsewhere, or waiting for its retry: later rows wait too
        elif stale or r.next_attempt_at <= now:
            assert r.id is not None
            plan.due.append(_Row(r.id, r.target_kind, r.target, r.attempts))
    return plan


def _channel_for(svc: Services, target: str) -> str | None:
    logical = {"unit": svc.settings.unit_channel, "secretariat": svc.settings.secretariat_channel}
    return logical[target] if target in logical else target


def _claim(svc: Services, row_id: int, now: datetime) -> tuple[str, str | None] | None:
    """The payload of a row this process now owns (and the ts of the message it replaces, if any);
    None when another worker got it first."""
    with unit_of_work(svc.engine) as session:
        row = session.get(OutboxMessage, row_id)
        if row is None or row.state not in ("pending", "sending"):
            return None
        was_stale = row.state == "sending"
        if not outbox.claim(session, row_id, now, STALE_CLAIM):
            return None
        if was_stale:
            log.warning("outbox row %s reclaimed after a stale claim: it may have been delivered already", row_id)
        replaces_ts = None
        if row.replaces_id is not None:
            original = session.get(OutboxMessage, row.replaces_id)
            if original is not None and original.state == "sent" and SLACK_TS.fullmatch(original.external_id or ""):
                replaces_ts = original.external_id
        return outbox.payload(session, svc.vault, row), replaces_ts


def _finish(svc: Services, row_id: int, now: datetime, external_id: str | None,
            delay: timedelta | None = None, error: str = "") -> None:
    with unit_of_work(svc.engine) as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        if delay is None:
            outbox.mark_sent(session, row, now, external_id)
        else:
            outbox.mark_retry(session, row, now, delay, error)


async def _send(client: AsyncWebClient, lang: str, channel: str, reply: Reply,
                replaces_ts: str | None) -> str | None:
    if replaces_ts and not reply.attachments:
        try:  # e.g. a reminder DM whose buttons give way to "done"
            await client.chat_update(channel=channel, ts=replaces_ts, **render.message(reply, lang))
            return replaces_ts
        except SlackApiError as exc:
            if exc.response.get("error") not in GONE:
                raise
    if reply.attachments:
        # One file share is one visible message: the text rides along as its comment (no buttons there).
        return await upload(client, channel, reply.attachments, render.fallback_text(reply))
    response = await client.chat_postMessage(channel=channel, unfurl_links=False, unfurl_media=False,
                                             **render.message(reply, lang))
    return response.get("ts")


async def _deliver_row(svc: Services, client: AsyncWebClient, work: Runner, row: _Row, channel: str | None,
                       now: datetime) -> bool | None:
    """True: sent. False: failed, retry scheduled. None: not ours to send this pass (claimed elsewhere)."""
    try:
        claimed = await work(_claim, row.id, now)
    except Exception as exc:  # noqa: BLE001 — e.g. a payload that no longer decrypts: hold the target, go on
        log.error("outbox row %s to %s %s: cannot claim (%s)", row.id, row.kind, row.target, type(exc).__name__)
        return False
    if claimed is None:
        return None
    payload, replaces_ts = claimed
    try:
        if channel is None:
            channel = await open_dm(client, row.target)
        external_id = await _send(client, svc.lang, channel, Reply.from_json(payload), replaces_ts)
    except SlackApiError as exc:
        status, code = exc.response.status_code, str(exc.response.get("error") or "")
        if status == 429:
            delay = _retry_after(exc)
        elif status >= 500:
            delay = backoff(row.attempts)
        else:
            delay = backoff(row.attempts + 4, MAX_CLIENT_ERROR_BACKOFF)
        log.warning("outbox row %s to %s %s: HTTP %s %s, retry in %ss", row.id, row.kind, row.target, status,
                    code, int(delay.total_seconds()))
        await work(_finish, row.id, now, None, delay, f"{status} {code}".strip())
        return False
    except NETWORK_ERRORS as exc:
        delay = backoff(row.attempts)
        log.warning("outbox row %s to %s %s: %s, retry in %ss", row.id, row.kind, row.target,
                    type(exc).__name__, int(delay.total_seconds()))
        await work(_finish, row.id, now, None, delay, type(exc).__name__)
        return False
    except Exception as exc:  # noqa: BLE001 — nothing was posted; retry later rather than wedge the queue
        delay = backoff(row.attempts + 4, MAX_CLIENT_ERROR_BACKOFF)
        log.error("outbox row %s to %s %s: %s, retry in %ss", row.id, row.kind, row.target,
                  type(exc).__name__, int(delay.total_seconds()))
        await work(_finish, row.id, now, None, delay, type(exc).__name__)
        return False
    await _mark_sent(work, row, now, external_id)
    return True


async def _mark_sent(work: Runner, row: _Row, now: datetime, external_id: str | None) -> None:
    """Slack has the message now: a few quick attempts at recording that, to keep the duplicate window short."""
    for attempt in range(MARK_ATTEMPTS):
        try:
            await work(_finish, row.id, now, external_id)
            log.info("outbox row %s to %s %s: sent", row.id, row.kind, row.target)
            return
        except Exception as exc:  # noqa: BLE001
            log.error("outbox row %s delivered but not yet marked sent (%s)", row.id, type(exc).__name__)
            if attempt + 1 == MARK_ATTEMPTS:
                raise
            await asyncio.sleep(0.5 * (attempt + 1))


async def deliver_pending(svc: Services, client: AsyncWebClient, *, now: datetime | None = None,
                          work: Runner | None = None) -> int:
    """Deliver every due outbox row meant for Slack; returns how many were sent in this pass.

    Rows for users on other platforms are left for their adapter. When a row fails, the later rows of the
    same target are skipped in this pass, so a channel or DM never sees messages out of order. `work` runs
    the database steps (the server's worker processes); by default they run in a thread.
    """
    now = now or svc.clock.now()
    work = work or _InThread(svc)
    plan = await work(_plan, now)
    sent = 0
    for row in plan.due:
        key = (row.kind, row.target)
        if key in plan.blocked:
            continue
        channel: str | None = None
        if row.kind == "channel":
            channel = _channel_for(svc, row.target)
            if not channel:
                if row.target not in _warned:
                    _warned.add(row.target)
                    log.warning("no Slack channel configured for %r (set %s_CHANNEL); its posts stay queued",
                                row.target, row.target.upper())
                plan.blocked.add(key)
                continue
        elif row.kind != "user" or row.target not in plan.slack_users:
            continue
        outcome = await _deliver_row(svc, client, work, row, channel, now)
        if outcome:
            sent += 1
        else:
            plan.blocked.add(key)
    return sent


async def deliver_with_settings(svc: Services) -> int:
    """One pass with a client built from the settings: for the scheduler's worker process."""
    return await deliver_pending(svc, delivery_client(svc.settings))


def delivery_pass(svc: Services, now: datetime | None = None) -> int:
    """One whole pass, synchronously, on an event loop of its own: the server runs it in a work process
    (or thread), so neither the Slack calls nor the bookkeeping ever delay an ack."""
    return asyncio.run(deliver_pending(svc, delivery_client(svc.settings), now=now, work=_Inline(svc)))


class DeliveryLoop(KickedLoop):
    """Runs a delivery pass every `interval` seconds, and soon after a kick (after each command).

    The pass itself runs on the work pool (`delivery_pass`), one at a time; the server's event loop only
    schedules it.
    """

    name = "slack-outbox"

    def __init__(self, svc: Services, work: Runner, interval: float = 2.0, coalesce: float = COALESCE_S) -> None:
        super().__init__(interval, coalesce)
        self.svc, self.work = svc, work

    async def one_pass(self) -> None:
        await self.work(delivery_pass, self.svc.clock.now())
