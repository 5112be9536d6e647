"""The outbox sender every platform shares: queued channel posts and DMs, delivered in order per target and
exactly once as far as a platform lets us.

Each row is claimed by a conditional UPDATE that is committed before anything is sent (so several processes
never send the same row), sent with one platform call, and marked sent with the platform's message id in its
own short transaction right after. The remaining gap — a crash after the platform accepted a message but before
the mark — is described in docs/slack.md. A failed row holds back the later rows of its target, so a channel or
chat never sees messages out of order: 429 honours Retry-After, 5xx and network errors back off exponentially,
other client errors wait longer (a human has to fix something).

A platform (bot/slack/delivery.py, bot/teams/delivery.py) says only which rows are its own, how one row is
sent, and what its errors mean. Logs name row ids, targets and statuses only, never contents.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlmodel import Session

from bot.runtime import Runner
from commands.context import Services
from commands.members.platforms import notify_unreachable
from commands.reply import Reply
from storage import metrics, outbox
from storage.db import unit_of_work
from storage.models import OutboxMessage

MAX_BACKOFF = timedelta(minutes=5)
MAX_CLIENT_ERROR_BACKOFF = timedelta(hours=1)  # e.g. not_in_channel, or the app was removed from a chat
DEFAULT_RETRY_AFTER = timedelta(seconds=30)
STALE_CLAIM = timedelta(minutes=5)  # a claim older than this belongs to a worker that died
MARK_ATTEMPTS = 3
SCAN_LIMIT = 500
COALESCE_S = 0.05

_warned: set[tuple[str, str]] = set()  # (platform, channel) not configured, already reported by this process


class InThread:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def __call__(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(fn, self.svc, *args)


class Inline(InThread):
    """For a loop that serves nothing else (a whole pass in a work process): no thread hop needed."""

    async def __call__(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(self.svc, *args)


@dataclass(frozen=True)
class Row:
    id: int
    kind: str  # "channel" | "user"
    target: str
    attempts: int


@dataclass(frozen=True)
class Claimed:
    payload: str  # the Reply, as JSON
    replaces: str | None  # the platform id of the message this row updates, when that one was sent
    extra: Any = None  # what the platform looked up in the claim's transaction (Teams: names, files)


@dataclass(frozen=True)
class Hooks:
    """What the database steps need from a platform. Module-level functions only: the steps may run in a work
    process, and these travel there with them."""

    platform: str  # Member.platform of the users whose DMs are this platform's
    replaceable: Callable[[str], bool] = bool  # can a sent message with this id be updated in place?
    enrich: Callable[[Services, Session, OutboxMessage, Reply], Any] | None = None  # → Claimed.extra


@dataclass(frozen=True)
class Failure:
    """A platform's answer that the row was not delivered."""

    status: int | None  # HTTP status; None: no answer worth retrying soon (e.g. nowhere to send it)
    error: str  # kept on the row (no contents)
    retry_after: timedelta | None = None
    hint: str = ""  # for the operator, in the log

    def delay(self, attempts: int) -> timedelta:
        if self.status == 429:
            return self.retry_after or DEFAULT_RETRY_AFTER
        if self.status is not None and self.status >= 500:
            return backoff(attempts)
        return backoff(attempts + 4, MAX_CLIENT_ERROR_BACKOFF)


class Platform(Protocol):
    title: str  # "Slack", "Teams": for the log
    hooks: Hooks
    owns_channels: bool  # channel posts go to one platform only
    network_errors: tuple[type[BaseException], ...]
    channel_hint: str  # what *_CHANNEL must hold, for the warning when it is not set

    async def send(self, row: Row, channel: str | None, claimed: Claimed) -> str | None:
        """Deliver one row (to `channel`, or as a DM to row.target); returns the platform's message id."""

    def failure(self, exc: Exception) -> Failure | None:
        """What a platform error means; None for anything that is not the platform's answer."""


@dataclass
class _Plan:
    """One sweep over the queue: which rows to try, and which targets are held back."""

    due: list[Row] = field(default_factory=list)
    blocked: set[tuple[str, str]] = field(default_factory=set)
    members: set[str] = field(default_factory=set)  # the DM targets that are this platform's members


def backoff(attempts: int, cap: timedelta = MAX_BACKOFF) -> timedelta:
    """1 s, 2 s, 4 s … capped: quick recovery from a blip, no hammering during an outage."""
    return min(timedelta(seconds=2 ** min(attempts, 20)), cap)


def channel_for(svc: Services, target: str) -> str | None:
    """A logical channel ("unit", "secretariat") → the platform's channel id from UNIT_CHANNEL and
    SECRETARIAT_CHANNEL; any other target is a channel id already."""
    logical = {"unit": svc.settings.unit_channel, "secretariat": svc.settings.secretariat_channel}
    return logical[target] if target in logical else target


def _log(hooks: Hooks) -> logging.Logger:
    return logging.getLogger(f"bot.{hooks.platform}.delivery")


def _plan(svc: Services, now: datetime, hooks: Hooks) -> _Plan:
    plan = _Plan()
    with unit_of_work(svc.engine) as session:
        rows = outbox.unsent(session, SCAN_LIMIT)
        plan.members = outbox.members_on(session, hooks.platform, {r.target for r in rows if r.target_kind == "user"})
    for r in rows:
        key = (r.target_kind, r.target)
        stale = r.state == "sending" and r.claimed_at is not None and r.claimed_at < now - STALE_CLAIM
        if (r.state == "sending" and not stale) or (r.next_attempt_at > now and r.attempts > 0):
            plan.blocked.add(key)  # in flight elsewhere, or waiting for its retry: later rows wait too
        elif stale or r.next_attempt_at <= now:
            assert r.id is not None
            plan.due.append(Row(r.id, r.target_kind, r.target, r.attempts))
    return plan


def _claim(svc: Services, row_id: int, now: datetime, hooks: Hooks) -> Claimed | None:
    """The row's payload, now this process's to send; None when another worker got it first."""
    with unit_of_work(svc.engine) as session:
        row = session.get(OutboxMessage, row_id)
        if row is None or row.state not in ("pending", "sending"):
            return None
        was_stale = row.state == "sending"
        if not outbox.claim(session, row_id, now, STALE_CLAIM):
            return None
        if was_stale:
            _log(hooks).warning("outbox row %s reclaimed after a stale claim: it may have been delivered already",
                                row_id)
        replaces = None
        if row.replaces_id is not None:
            original = session.get(OutboxMessage, row.replaces_id)
            if original is not None and original.state == "sent" and hooks.replaceable(original.external_id or ""):
                replaces = original.external_id
        payload = outbox.payload(session, svc.vault, row)
        extra = hooks.enrich(svc, session, row, Reply.from_json(payload)) if hooks.enrich else None
        return Claimed(payload, replaces, extra)


def _finish(svc: Services, row_id: int, now: datetime, external_id: str | None,
            delay: timedelta | None = None, error: str = "") -> None:
    with unit_of_work(svc.engine) as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        if delay is None:
            outbox.mark_sent(session, row, now, external_id)
        else:
            outbox.mark_retry(session, row, now, delay, error)


async def _deliver_row(svc: Services, platform: Platform, work: Runner, row: Row, channel: str | None,
                       now: datetime) -> bool | None:
    """True: sent. False: failed, retry scheduled. None: not ours to send this pass (claimed elsewhere)."""
    log = _log(platform.hooks)
    try:
        claimed = await work(_claim, row.id, now, platform.hooks)
    except Exception as exc:  # noqa: BLE001 — e.g. a payload that no longer decrypts: hold the target, go on
        log.error("outbox row %s to %s %s: cannot claim (%s)", row.id, row.kind, row.target, type(exc).__name__)
        return False
    if claimed is None:
        return None
    try:
        external_id = await platform.send(row, channel, claimed)
    except Exception as exc:  # noqa: BLE001 — nothing was posted; retry later rather than wedge the queue
        failure = platform.failure(exc)
        metrics.delivery(platform.hooks.platform, failure.status if failure else None, failed=True,
                         network=failure is None and isinstance(exc, platform.network_errors))
        if failure is not None:
            level, error, delay = logging.WARNING, failure.error, failure.delay(row.attempts)
        elif isinstance(exc, platform.network_errors):
            level, error, delay = logging.WARNING, type(exc).__name__, backoff(row.attempts)
        else:
            level, error = logging.ERROR, type(exc).__name__
            delay = backoff(row.attempts + 4, MAX_CLIENT_ERROR_BACKOFF)
        log.log(level, "outbox row %s to %s %s: %s%s, retry in %ss", row.id, row.kind, row.target, error,
                f" ({failure.hint})" if failure and failure.hint else "", int(delay.total_seconds()))
        await work(_finish, row.id, now, None, delay, error)
        return False
    metrics.delivery(platform.hooks.platform)
    await _mark_sent(work, log, row, now, external_id)
    return True


async def _mark_sent(work: Runner, log: logging.Logger, row: Row, now: datetime, external_id: str | None) -> None:
    """The platform has the message now: a few quick attempts at recording that, to keep the duplicate window
    short."""
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


async def deliver(svc: Services, platform: Platform, *, now: datetime | None = None,
                  work: Runner | None = None) -> int:
    """Deliver every due outbox row that is this platform's; returns how many were sent in this pass.

    DMs to members on other platforms are left for their adapter, and channel posts unless the platform owns
    the channels. When a row fails (or another worker has it), the later rows of the same target wait for a
    later pass. `work` runs the database steps (the server's worker processes); by default, a thread.
    """
    now = now or svc.clock.now()
    work = work or InThread(svc)
    if platform.owns_channels:  # one platform per deployment tells the secretariat of DMs nobody can deliver
        await work(notify_unreachable)
    plan = await work(_plan, now, platform.hooks)
    sent = 0
    for row in plan.due:
        key = (row.kind, row.target)
        if key in plan.blocked:
            continue
        channel: str | None = None
        if row.kind == "channel":
            if not platform.owns_channels:
                continue
            channel = channel_for(svc, row.target)
            if not channel:
                if (platform.title, row.target) not in _warned:
                    _warned.add((platform.title, row.target))
                    _log(platform.hooks).warning(
                        "no %s channel configured for %r (set %s_CHANNEL%s); its posts stay queued",
                        platform.title, row.target, row.target.upper(), platform.channel_hint)
                plan.blocked.add(key)
                continue
        elif row.kind != "user" or row.target not in plan.members:
            continue
        outcome = await _deliver_row(svc, platform, work, row, channel, now)
        if outcome:
            sent += 1
        else:
            plan.blocked.add(key)
    return sent
