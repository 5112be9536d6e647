"""The outbox: outgoing messages are rows written in the same transaction as the change that caused them.

Payloads are encrypted (a DM may carry case details). Delivery is the adapters' job (bot/…/dispatch).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from storage import sealed
from storage.clock import Clock
from storage.crypto import Vault
from storage.models import Member, OutboxMessage


def enqueue(
    session: Session,
    *,
    clock: Clock,
    vault: Vault,
    target_kind: str,
    target: str,
    payload: str,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    replaces_id: int | None = None,
    check_duplicate: bool = True,
    flush: bool = True,
) -> OutboxMessage | None:
    """Queue one message; with a dedupe_key an identical message is queued only once.

    Callers that hold the rows they act on locked (the sweep) skip the look-up: the unique index on
    dedupe_key still refuses a duplicate, by failing the whole transaction.
    """
    if dedupe_key is not None and check_duplicate:
        existing = session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)).first()
        if existing is not None:
            return None
    ct, kid = vault.encrypt(session, payload, sealed.OUTBOX_PAYLOAD.label)
    now = clock.now()
    row = OutboxMessage(
        created_at=now,
        target_kind=target_kind,
        target=target,
        payload_ct=ct,
        payload_kid=kid,
        next_attempt_at=not_before or now,
        dedupe_key=dedupe_key,
        replaces_id=replaces_id,
    )
    session.add(row)
    if flush:
        session.flush()
    return row


def enqueue_many(session: Session, *, clock: Clock, vault: Vault,
                 messages: list[tuple[str, str, str, str]]) -> list[int]:
    """Queue many messages — (target kind, target, payload, dedupe key; the keys unique) — in one INSERT;
    their ids, in order.

    For a caller that holds the rows it acts on locked (the sweep): no duplicate look-up, the unique index on
    dedupe_key refuses a duplicate by failing the whole transaction."""
    if not messages:
        return []
    now = clock.now()
    rows = []
    for target_kind, target, text, dedupe_key in messages:
        ct, kid = vault.encrypt(session, text, sealed.OUTBOX_PAYLOAD.label)
        rows.append({"created_at": now, "target_kind": target_kind, "target": target, "payload_ct": ct,
                     "payload_kid": kid, "state": "pending", "attempts": 0, "next_attempt_at": now,
                     "dedupe_key": dedupe_key})
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    session.execute(insert(table), rows)  # executemany: the driver sends one prepared statement (no RETURNING)
    keys = [dedupe_key for _, _, _, dedupe_key in messages]
    found = session.execute(select(table.c.dedupe_key, table.c.id).where(table.c.dedupe_key.in_(keys)))
    ids = {key: row_id for key, row_id in found}
    return [ids[key] for key in keys]


def payload(session: Session, vault: Vault, row: OutboxMessage) -> str:
    return vault.decrypt(session, row.payload_ct, row.payload_kid, sealed.OUTBOX_PAYLOAD.label)


def due(session: Session, now: datetime, limit: int = 50) -> list[OutboxMessage]:
    """Pending messages in creation order (which keeps per-target order)."""
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.state == "pending", col(OutboxMessage.next_attempt_at) <= now)
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    return list(session.exec(stmt))


def claim(session: Session, row_id: int, now: datetime, stale_after: timedelta = timedelta(minutes=5)) -> bool:
    """Mark a row as being sent; False when another worker holds it. Conditional UPDATE works on both engines."""
    result = session.exec(  # type: ignore[call-overload]
        update(OutboxMessage)
        .where(
            OutboxMessage.id == row_id,
            (OutboxMessage.state == "pending")
            | ((OutboxMessage.state == "sending") & (col(OutboxMessage.claimed_at) < now - stale_after)),
        )
        .values(state="sending", claimed_at=now)
    )
    return result.rowcount == 1


def mark_sent(session: Session, row: OutboxMessage, now: datetime, external_id: str | None) -> None:
    row.state, row.sent_at, row.external_id, row.error = "sent", now, external_id, None
    session.add(row)


def mark_sent_by_id(session: Session, row_id: int, now: datetime, external_id: str | None) -> None:
    row = session.get(OutboxMessage, row_id)
    if row is not None:
        mark_sent(session, row, now, external_id)


def mark_retry(session: Session, row: OutboxMessage, now: datetime, delay: timedelta, error: str) -> None:
    row.state, row.attempts, row.next_attempt_at, row.error = "pending", row.attempts + 1, now + delay, error[:200]
    session.add(row)


def unsent(session: Session, limit: int = 500) -> list[OutboxMessage]:
    """Pending and in-flight rows in creation order, due or not.

    An outbox sender needs the rows it may not send yet too: a row being sent by another worker, or waiting
    for its retry, holds back the later rows of the same target (per-target order across workers).
    """
    stmt = (
        select(OutboxMessage)
        .where(col(OutboxMessage.state).in_(("pending", "sending")))
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    return list(session.exec(stmt))


def members_on(session: Session, platform: str, user_ids: set[str]) -> set[str]:
    """Which of these DM targets are active members on `platform`: that platform's outbox sender delivers them."""
    if not user_ids:
        return set()
    return set(session.exec(select(Member.user_id).where(
        col(Member.user_id).in_(user_ids), Member.platform == platform, Member.active == True)))  # noqa: E712
