"""The one audit writer. Append-only and hash-chained: each entry's hash covers the previous hash and a digest of
the entry's content, so retention can redact an entry's detail without breaking the chain (docs/privacy.md)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, literal, text
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, select

from storage import sealed
from storage.clock import Clock
from storage.crypto import Vault
from storage.db import UnitOfWork, then
from storage.models import AuditEntry

GENESIS = "0" * 64


def content_digest(entry: AuditEntry) -> str:
    """The digest of what an entry says. The chain links these digests, so an entry's detail and purpose can
    later be redacted (retention) while the chain still proves that nothing was added, removed or reordered."""
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
    return hashlib.sha256(body.encode()).hexdigest()


def chain_digest(prev_hash: str, content_hash: str) -> str:
    return hashlib.sha256((prev_hash + content_hash).encode()).hexdigest()


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
    """Write one entry. `detail` must hold categorical values only; `purpose` (free text) is encrypted.

    In a unit of work the entry joins the chain just before the commit, after every other consequence: the lock
    that lets one writer at a time extend the chain is then held for that INSERT and the commit only, not for
    the rest of the use case (at 50 commands/s, held from the middle of each use case, it queued them all)."""
    entry = AuditEntry(
        at=clock.now(),
        actor=actor,
        action=action,
        case_ref=case_ref,
        result=result,
        detail=json.dumps(detail or {}, sort_keys=True, ensure_ascii=False),
        prev_hash="",
        hash="",
    )
    if purpose:
        entry.purpose_ct, entry.purpose_kid = vault.encrypt(session, purpose, sealed.AUDIT_PURPOSE.label)
    entry.content_hash = content_digest(entry)
    then(session, _QUEUE, _append_all, entry, last=True)
    return entry


_QUEUE = "audit"


def queued(session: Session) -> list[AuditEntry]:
    """The entries this unit of work has recorded that join the chain at its commit (none outside one)."""
    return session.queued(_QUEUE) if isinstance(session, UnitOfWork) else []


def _append_all(session: Session, entries: list[AuditEntry]) -> None:
    """The unit of work's entries, in the order written, at the chain's end."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.exec(text("SELECT pg_advisory_xact_lock(7305001)"))  # one writer extends the chain
    session.flush()  # what the use case wrote goes first, as when the entry was flushed with it
    for entry in entries:
        entry.id, entry.prev_hash, entry.hash = session.execute(_append(session, dialect, entry)).one()
        make_transient_to_detached(entry)  # as if loaded: the session knows the row without reading it back
        session.add(entry)


_SHA256 = "koordinator_sha256"


def _sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _append(session: Session, dialect: str, entry: AuditEntry):  # noqa: ANN202
    """One statement: the entry, linked to the last hash read in the same statement (`chain_digest` in SQL).
    Writers are serialised (PostgreSQL: the advisory lock taken before; SQLite: BEGIN IMMEDIATE), so the
    last hash read is the chain's end."""
    t = AuditEntry.__table__  # type: ignore[attr-defined]
    last = select(t.c.hash).order_by(t.c.id.desc()).limit(1).scalar_subquery()
    prev = select(func.coalesce(last, GENESIS).label("prev")).subquery()
    joined = prev.c.prev.concat(entry.content_hash)
    if dialect == "postgresql":
        digest = func.encode(func.sha256(func.convert_to(joined, "UTF8")), "hex")
    else:  # SQLite has no SHA-256 of its own: Python's, registered on this connection
        raw = session.connection().connection.driver_connection
        raw.create_function(_SHA256, 1, _sha256_hex, deterministic=True)  # type: ignore[union-attr]
        digest = getattr(func, _SHA256)(joined)
    values = {name: getattr(entry, name) for name in ("at", "actor", "action", "case_ref", "result", "detail",
                                                      "purpose_ct", "purpose_kid", "content_hash", "redacted")}
    columns = [*values, "prev_hash", "hash"]
    source = select(*(literal(v, type_=t.c[name].type) for name, v in values.items()),
                    prev.c.prev, digest).select_from(prev)
    return insert(t).from_select(columns, source).returning(t.c.id, t.c.prev_hash, t.c.hash)


REDACTED_DETAIL = "{}"
REDACTIONS = ("retention", "subject")  # why; either way a later `case.erase` entry records the erasure
ERASE = "case.erase"


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    broken_at: int | None = None
    redacted: int = 0  # entries whose detail/purpose retention or a subject erasure removed


def redact(session: Session, case_ref: str, why: str = "retention") -> int:
    """Remove detail and purpose from every entry about this case; their content digests stay in the chain.
    The caller then writes the `case.erase` entry that `verify` pairs them with."""
    count = 0
    for entry in session.exec(select(AuditEntry).where(AuditEntry.case_ref == case_ref,
                                                        col(AuditEntry.redacted).is_(None))):
        if entry.action == ERASE:
            continue
        entry.detail, entry.purpose_ct, entry.purpose_kid, entry.redacted = REDACTED_DETAIL, None, None, why
        session.add(entry)
        count += 1
    session.flush()
    return count


def verify(session: Session) -> ChainReport:
    """The chain of digests is unbroken; every unredacted entry matches its digest; every redacted entry is
    blank and belongs to a case that a later `case.erase` entry says was erased."""
    prev = GENESIS
    count = redacted = 0
    pending: dict[str, list[int]] = {}
    for entry in session.exec(select(AuditEntry).order_by(col(AuditEntry.id))):
        count += 1
        if entry.prev_hash != prev or chain_digest(prev, entry.content_hash) != entry.hash:
            return ChainReport(False, count, entry.id, redacted)
        if entry.redacted is None:
            if content_digest(entry) != entry.content_hash:
                return ChainReport(False, count, entry.id, redacted)
            if entry.action == ERASE and entry.case_ref:
                pending.pop(entry.case_ref, None)
        else:
            if (entry.redacted not in REDACTIONS or entry.detail != REDACTED_DETAIL
                    or entry.purpose_ct is not None or not entry.case_ref):
                return ChainReport(False, count, entry.id, redacted)
            pending.setdefault(entry.case_ref, []).append(entry.id or 0)
            redacted += 1
        prev = entry.hash
    if pending:  # redacted without an erasure recorded after it
        return ChainReport(False, count, min(min(ids) for ids in pending.values()), redacted)
    return ChainReport(True, count, None, redacted)


def for_case(session: Session, case_ref: str) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.case_ref == case_ref).order_by(col(AuditEntry.id))
    return list(session.exec(stmt))
