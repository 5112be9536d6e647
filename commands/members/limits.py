"""Abuse limits: identifier look-ups per user per day — `concern lookup`, and every other form that derives a
pseudonym from a typed identifier (intake, add person, subject rights), since a derived pseudonym tells whether
the person is known — and commands per user per minute. Both are audited; neither message names a person the unit holds.

The lookup limit counts the day's audited lookups, so it holds across processes and restarts. The command
rate is counted where requests arrive (the serving process, before any work is handed out): it only has to
slow a runaway script or a stuck button down, not be exact across several servers.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime, timedelta

from sqlmodel import col, func, select

from commands import markup
from commands.context import Ctx, Services
from commands.errors import Refused
from commands.messages import t
from commands.reply import Invocation, Reply
from storage import audit, metrics
from storage.db import unit_of_work
from storage.models import AuditEntry

LOOKUP_ACTION = "concern.lookup"
DERIVE_ACTION = "identifier.derive"  # a pseudonym derived from an identifier typed in any other form
COUNTED = (LOOKUP_ACTION, DERIVE_ACTION)
WARN_SHARE = 0.8  # the secretariat hears of a user who reaches this share of LOOKUP_LIMIT
RATE_WINDOW = timedelta(minutes=1)


def _day_start(ctx: Ctx) -> datetime:
    local = ctx.now().astimezone(ctx.tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(ctx.now().tzinfo)


def lookups_today(ctx: Ctx) -> int:
    """Those in the audit log, and those this command has audited (they join the log at its commit)."""
    since = _day_start(ctx)
    stored = ctx.session.exec(select(func.count()).select_from(AuditEntry).where(
        col(AuditEntry.action).in_(COUNTED), AuditEntry.actor == ctx.inv.user_id,
        col(AuditEntry.at) >= since)).one()
    return stored + sum(1 for e in audit.queued(ctx.session)
                        if e.action in COUNTED and e.actor == ctx.inv.user_id and e.at >= since)


def check_lookup(ctx: Ctx) -> None:
    """Refuse (audited by the router) once the user has made LOOKUP_LIMIT lookups today."""
    limit = ctx.settings.lookup_limit
    if lookups_today(ctx) >= limit:
        metrics.LIMITED.labels("lookup").inc()
        raise Refused("lookup_limit", limit=limit)


def counted(ctx: Ctx, form_id: str) -> None:
    """A pseudonym was derived from a typed identifier outside `concern lookup` (intake, add person, subject
    rights): audited, so it counts like a lookup, and the secretariat hears of a user nearing the limit."""
    ctx.audit(DERIVE_ACTION, detail={"form": form_id})
    after_lookup(ctx)


def after_lookup(ctx: Ctx) -> None:
    """Call after the lookup was audited: the secretariat is told, once a day, of a user reaching 80 %."""
    limit = ctx.settings.lookup_limit
    count = lookups_today(ctx)
    if count < math.ceil(limit * WARN_SHARE):
        return
    who = markup.mention(ctx.actor or ctx.inv.user_id)  # from the member's id, never their display name
    day = ctx.now().astimezone(ctx.tz).date().isoformat()
    ctx.post_channel("secretariat", Reply(text=ctx.t("limit.lookup_nearing", who=who, count=count, limit=limit)),
                     dedupe_key=f"lookup-nearing:{ctx.inv.user_id}:{day}"[:128])


class CommandRate:
    """At most `rate` commands per user in any minute, by the injected clock's time."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._seen: dict[str, deque[datetime]] = {}
        self._refused: dict[str, datetime] = {}

    def allow(self, user_id: str, now: datetime) -> bool:
        times = self._seen.setdefault(user_id, deque())
        while times and times[0] <= now - RATE_WINDOW:
            times.popleft()
        if len(times) >= self.rate:
            return False
        times.append(now)
        if len(self._seen) > 10_000:  # forget users who have gone quiet
            self._seen = {u: q for u, q in self._seen.items() if q and q[-1] > now - RATE_WINDOW}
        return True

    def first_refusal(self, user_id: str, now: datetime) -> bool:
        """True once per user per minute: the audit log records the slowing, not every refused command."""
        last = self._refused.get(user_id)
        if last is not None and last > now - RATE_WINDOW:
            return False
        if len(self._refused) > 10_000:
            self._refused.clear()
        self._refused[user_id] = now
        return True


def slowed(svc: Services, inv: Invocation, audited: bool) -> Reply:
    """The polite answer to a user over COMMAND_RATE; the first refusal of a minute is audited."""
    metrics.LIMITED.labels("command_rate").inc()
    if audited:
        with unit_of_work(svc.engine) as session:
            audit.record(session, clock=svc.clock, vault=svc.vault, actor=inv.user_id, action="limit.command_rate",
                         result="refused", detail={"rate": svc.settings.command_rate})
    reply = Reply(text=t(svc.lang, "limit.command_rate", rate=svc.settings.command_rate), ok=False)
    reply.command, reply.outcome = "unknown", "refused"
    return reply
