"""Re-encrypting free text under the active data key after `unit keys rotate`."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.crypto import Vault
from storage.sealed import ROTATED


def reencrypt(session: Session, vault: Vault) -> int:
    active = vault.active(session).kid
    count = 0
    for column in ROTATED:  # every encrypted column except audit purposes (storage/sealed.py says why)
        kid_attr = getattr(column.model, column.kid)
        for row in session.exec(select(column.model).where(kid_attr.is_not(None), kid_attr != active)):
            plaintext = vault.decrypt(session, getattr(row, column.ct), getattr(row, column.kid), column.label)
            ct, kid = vault.encrypt(session, plaintext, column.label)
            setattr(row, column.ct, ct)
            setattr(row, column.kid, kid)
            session.add(row)
            count += 1
    session.flush()
    return count
