"""The one audit writer. Append-only and hash-chained: each entry's hash covers the previous hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from storage.clock import Clock
from storage.crypto import Vault
from storage.models import AuditEntry

GENESIS = "0" * 64


def _digest(entry: AuditEntry) -> str:
    body = json.dumps(
        {
            "at": entry.at.isoformat(),
            "actor": entry.actor,
            "action": entry.action,
            "case_ref": entry.case_ref,
            "result": entry.result,
            "detail": entry.detail,
            "purpose": entry.purpose_ct.hex() if entry.purpose_ct else None,
            "purpose_kid": entry.purpose_kid,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256((entry.prev_hash + body).encode()).hexdigest()


def record(
    session: Session,
    *,
    clock: Clock,
    vault: Vault,
    actor: str,
    action: str,
    case_ref: str | None = None,
    result: str = "ok",
    detail: dict[str, Any] | None = None,
    purpose: str | None = None,
) -> AuditEntry:
    """Write one entry. `detail` must hold categorical values only; `purpose` (free text) is encrypted."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(text("SELECT pg_advisory_xact_lock(7305001)"))  # one writer extends the chain
    last = session.exec(select(AuditEntry.hash).order_by(col(AuditEntry.id).desc()).limit(1)).first()
    entry = AuditEntry(
        at=clock.now(),
        actor=actor,
        action=action,
        case_ref=case_ref,
        result=result,
        detail=json.dumps(detail or {}, sort_keys=True, ensure_ascii=False),
        prev_hash=last or GENESIS,
        hash="",
    )
    if purpose:
        entry.purpose_ct, entry.purpose_kid = vault.encrypt(session, purpose, "audit.purpose")
    entry.hash = _digest(entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    broken_at: int | None = None


def verify(session: Session) -> ChainReport:
    prev = GENESIS
    count = 0
    for entry in session.exec(select(AuditEntry).order_by(col(AuditEntry.id))):
        count += 1
        if entry.prev_hash != prev or _digest(entry) != entry.hash:
            return ChainReport(False, count, entry.id)
        prev = entry.hash
    return ChainReport(True, count)


def for_case(session: Session, case_ref: str) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.case_ref == case_ref).order_by(col(AuditEntry.id))
    return list(session.exec(stmt))
