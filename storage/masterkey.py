"""Rotating the master key DATA_KEY: every data key (DEK) in `datakey` is re-wrapped under the new master.

The free text itself is not touched: it stays encrypted under its DEK. Run with DATA_KEY set to the new key
and DATA_KEY_PREVIOUS to the old one, on the servers first (they then read a DEK wrapped under either), then
`python -m bot keys rotate-master`. Each DEK is re-wrapped in a transaction of its own, so a crash leaves
every DEK readable under one of the two keys, and a rerun carries on where it stopped (a DEK the new key
already opens is skipped). When it reports done, remove DATA_KEY_PREVIOUS.

PSEUDONYM_KEY cannot be rotated: pseudonyms are HMACs of identifiers that are never stored, so they cannot be
computed again under a new key (docs/privacy.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from storage import audit
from storage.clock import Clock
from storage.crypto import KeyMaterialError, Vault
from storage.db import unit_of_work
from storage.models import DataKey


@dataclass
class Rewrapped:
    rewrapped: int = 0
    already: int = 0
    total: int = 0


def rotate_master(engine: Engine, vault: Vault, clock: Clock, *, has_previous: bool,
                  after_each: Callable[[str], None] | None = None) -> Rewrapped:
    """Re-wrap every DEK that the new master does not open yet. Idempotent and resumable."""
    if not has_previous:
        raise KeyMaterialError("set DATA_KEY to the new master key and DATA_KEY_PREVIOUS to the old one")
    with unit_of_work(engine) as session:
        kids = list(session.exec(select(DataKey.kid).order_by(col(DataKey.created_at), col(DataKey.kid))))
    result = Rewrapped(total=len(kids))
    for kid in kids:
        with unit_of_work(engine) as session:
            stmt = select(DataKey).where(DataKey.kid == kid)
            if session.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update()
            row = session.exec(stmt).one()
            raw, current = vault.unwrap_raw(row.kid, row.wrapped)
            if current:
                result.already += 1
                continue
            row.wrapped = vault.wrap_raw(row.kid, raw)
            session.add(row)
            result.rewrapped += 1
        if after_each is not None:
            after_each(kid)
    with unit_of_work(engine) as session:
        for row in session.exec(select(DataKey)):
            if not vault.unwrap_raw(row.kid, row.wrapped)[1]:
                raise KeyMaterialError(f"data key {row.kid} is still wrapped by the previous master key: run again")
        audit.record(session, clock=clock, vault=vault, actor="cli", action="keys.rotate_master",
                     detail={"rewrapped": result.rewrapped, "already": result.already, "total": result.total})
    return result
