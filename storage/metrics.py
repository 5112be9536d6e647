"""Prometheus metrics: what an operator watches from outside (docs/operations.md).

It lives in the lowest room because every room records into it (the router's outcomes, the sweep, delivery)
and its gauges read the schema. Label values come from small fixed sets only — a command's name from the
registry, an outcome, a platform, a reason class — never a reference, pseudonym, user id or any text.
Counters are recorded in the process that serves /metrics: work processes hand their outcome back to it.
"""

from __future__ import annotations

import hmac
import logging
import time
from datetime import datetime

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from storage.enums import CaseState
from storage.models import Case, Member, OutboxMessage
from storage.settings import Settings

log = logging.getLogger(__name__)

OUTCOMES = ("ok", "usage_error", "refused", "crashed", "unavailable")  # unavailable: the database was away
PLATFORMS = ("slack", "teams", "console")
AWAITING_VISITATION = (CaseState.new.value, CaseState.qualifying.value)

COMMANDS = Counter("koordinator_commands", "Commands handled, by command name and outcome.",
                   ["platform", "command", "outcome"])
ACK_SECONDS = Histogram("koordinator_ack_seconds", "Time from a platform's request to our HTTP answer (the ack).",
                        ["platform"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0))
OUTBOX_PENDING = Gauge("koordinator_outbox_pending", "Outbox rows not yet delivered, by platform.", ["platform"])
OUTBOX_OLDEST = Gauge("koordinator_outbox_oldest_seconds", "Age of the oldest undelivered outbox row, by platform.",
                      ["platform"])
DELIVERY_ATTEMPTS = Counter("koordinator_delivery_attempts", "Outbox rows handed to a platform.", ["platform"])
DELIVERY_FAILURES = Counter("koordinator_delivery_failures", "Outbox deliveries that failed, by reason class.",
                            ["platform", "reason"])
SWEEP_SECONDS = Histogram("koordinator_sweep_seconds", "Duration of one follow-up sweep.",
                          buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
REMINDED = Counter("koordinator_followups_reminded", "Follow-up reminders queued by the sweep.")
SWEEP_LAST_SUCCESS = Gauge("koordinator_sweep_last_success_timestamp_seconds",
                           "When the last sweep finished without an error (Unix time).")
OVERDUE = Gauge("koordinator_visitations_overdue", "Cases past their visitation deadline and not yet visited.")
DATABASE_UP = Gauge("koordinator_database_up", "1 when the last scrape could read the database, else 0.")
LIMITED = Counter("koordinator_limited", "Commands slowed or refused by an abuse limit.", ["limit"])


def command(platform: str, name: str, outcome: str) -> None:
    COMMANDS.labels(platform if platform in PLATFORMS else "other", name or "unknown",
                    outcome if outcome in OUTCOMES else "crashed").inc()


def delivery(platform: str, failure_status: int | None = None, *, failed: bool = False, network: bool = False) -> None:
    DELIVERY_ATTEMPTS.labels(platform).inc()
    if failed:
        DELIVERY_FAILURES.labels(platform, reason_class(failure_status, network)).inc()


def reason_class(status: int | None, network: bool = False) -> str:
    """A platform's error as one of a few classes: the error codes themselves are the platform's vocabulary."""
    if network:
        return "network"
    if status is None:
        return "other"
    if status == 429:
        return "rate_limited"
    return "server_error" if status >= 500 else "client_error"


def swept(seconds: float, reminded: int, now: datetime) -> None:
    SWEEP_SECONDS.observe(seconds)
    REMINDED.inc(reminded)
    SWEEP_LAST_SUCCESS.set(now.timestamp())


def channel_platform(settings: Settings) -> str:
    """Which platform delivers channel posts (bot/delivery.py): Slack when configured, else Teams."""
    if settings.has_slack:
        return "slack"
    teams = settings.has_teams or (settings.koordinator_dev and not settings.teams_app_id and settings.teams_tenant_id)
    return "teams" if teams else "console"


def refresh(engine: Engine, now: datetime, channel_platform: str) -> None:
    """The gauges that are facts about the database, read at scrape time."""
    try:
        with Session(engine) as session:
            rows = session.exec(
                select(OutboxMessage.target_kind, Member.platform, func.count(), func.min(OutboxMessage.created_at))
                .join(Member, (col(Member.user_id) == col(OutboxMessage.target))
                      & (col(OutboxMessage.target_kind) == "user"), isouter=True)
                .where(col(OutboxMessage.state).in_(("pending", "sending")))
                .group_by(OutboxMessage.target_kind, Member.platform)).all()
            overdue = session.exec(select(func.count()).select_from(Case).where(
                col(Case.state).in_(AWAITING_VISITATION), col(Case.deadline_at) < now)).one()
    except SQLAlchemyError as exc:
        log.warning("metrics: database not readable (%s)", type(exc).__name__)
        DATABASE_UP.set(0)
        return
    DATABASE_UP.set(1)
    pending: dict[str, int] = {}
    oldest: dict[str, datetime] = {}
    for kind, member_platform, count, first in rows:
        platform = channel_platform if kind == "channel" else (member_platform or "unknown")
        if platform not in (*PLATFORMS, "unknown"):
            platform = "other"
        pending[platform] = pending.get(platform, 0) + count
        if first is not None:
            first = first if first.tzinfo else first.replace(tzinfo=now.tzinfo)
            oldest[platform] = min(oldest.get(platform, first), first)
    for platform in sorted({*PLATFORMS, *pending}):
        OUTBOX_PENDING.labels(platform).set(pending.get(platform, 0))
        age = (now - oldest[platform]).total_seconds() if platform in oldest else 0.0
        OUTBOX_OLDEST.labels(platform).set(max(age, 0.0))
    OVERDUE.set(overdue)


def authorised(token: str | None, header: str | None) -> bool:
    """Only a request bearing METRICS_TOKEN; without a token configured, nobody."""
    if not token or not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer "):].encode(), token.encode())


def exposition() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class Timer:
    """`with Timer() as t: …; t.seconds`"""

    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
