"""Keys and encryption at rest.

Envelope scheme: DATA_KEY is the master key; it wraps data-encryption keys (DEKs) stored in `datakey`.
Each ciphertext carries its DEK id beside it, so `unit keys rotate` can add a DEK and re-encrypt without
touching the master. PSEUDONYM_KEY keys the HMAC that links identifiers to pseudonyms.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select as sa_select
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from storage.clock import Clock
from storage.models import DataKey
from storage.settings import Settings

log = logging.getLogger(__name__)
NONCE = 12


class KeyMaterialError(RuntimeError):
    """A key is missing or malformed (message never contains key material)."""


@dataclass(frozen=True)
class Keys:
    pseudonym_key: bytes
    master_key: bytes
    generated: bool = False  # True when taken from a local, generated key file
    previous_master: bytes | None = None  # DATA_KEY_PREVIOUS: data keys still wrapped by it stay readable


def generate_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _decode(name: str, value: str) -> bytes:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except ValueError as exc:
        raise KeyMaterialError(f"{name} is not valid base64") from exc
    if len(raw) != 32:
        raise KeyMaterialError(f"{name} must be 32 bytes, base64-encoded (python -m bot keys generate)")
    return raw


def local_keys_path(settings: Settings) -> Path:
    if settings.keys_file:
        return Path(settings.keys_file)
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).with_suffix(".keys.json")
    return Path("koordinator.keys.json")


def load_keys(settings: Settings, *, allow_generate: bool = True) -> Keys:
    """Keys from the environment; for local runs, generated once into a private (0600) file."""
    previous = _decode("DATA_KEY_PREVIOUS", settings.data_key_previous) if settings.data_key_previous else None
    if settings.pseudonym_key and settings.data_key:
        return Keys(_decode("PSEUDONYM_KEY", settings.pseudonym_key), _decode("DATA_KEY", settings.data_key),
                    previous_master=previous)
    if settings.pseudonym_key or settings.data_key:
        raise KeyMaterialError("set both PSEUDONYM_KEY and DATA_KEY, or neither")
    if not allow_generate:
        raise KeyMaterialError("PSEUDONYM_KEY and DATA_KEY are required (python -m bot keys generate)")
    path = local_keys_path(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump({"PSEUDONYM_KEY": generate_key(), "DATA_KEY": generate_key()}, fh)
        log.warning("No PSEUDONYM_KEY/DATA_KEY set: generated local keys in %s (keep it private)", path)
    else:
        log.warning("No PSEUDONYM_KEY/DATA_KEY set: using local keys from %s", path)
    data = json.loads(path.read_text())
    return Keys(
        _decode("PSEUDONYM_KEY", data["PSEUDONYM_KEY"]), _decode("DATA_KEY", data["DATA_KEY"]), generated=True
    )


ACTIVE_DEK = "koordinator.active_dek"  # session.info: the active DataKey row this unit of work read or made
PRIMED_DEK = "koordinator.primed_dek"  # session.info: (kid, wrapped) of the active DEK, read along with the profile


def active_key_columns() -> tuple[Any, Any]:
    """The active DEK's id and wrapped key as two scalar subqueries, for a statement every unit of work runs
    anyway (`storage.profile.store.current`): the key is read in the use case's own transaction, so a rotation
    by another process is seen by the next unit of work, as when it was read alone — without a round trip."""
    t = DataKey.__table__  # type: ignore[attr-defined]

    def one(column: Any) -> Any:
        return sa_select(column).where(t.c.active == True).limit(1).scalar_subquery()  # noqa: E712

    return one(t.c.kid).label("dek_kid"), one(t.c.wrapped).label("dek_wrapped")


def prime(session: Session, kid: str | None, wrapped: bytes | None) -> None:
    """What `active_key_columns` read: the key `Vault.encrypt` uses in this unit of work."""
    if kid is not None and wrapped is not None:
        session.info[PRIMED_DEK] = (kid, wrapped)


class Vault:
    """AES-GCM for free text. `aad` names the field, so a ciphertext cannot be moved to another field."""

    def __init__(self, master_key: bytes, clock: Clock, previous: bytes | None = None) -> None:
        self._master = AESGCM(master_key)
        self._previous = AESGCM(previous) if previous else None
        self._clock = clock
        self._deks: dict[str, AESGCM] = {}

    def unwrap_raw(self, kid: str, wrapped: bytes) -> tuple[bytes, bool]:
        """The data key, and whether the current master wrapped it (False: DATA_KEY_PREVIOUS did)."""
        aad = b"dek:" + kid.encode()
        try:
            return self._master.decrypt(wrapped[:NONCE], wrapped[NONCE:], aad), True
        except InvalidTag:
            if self._previous is None:
                raise
            return self._previous.decrypt(wrapped[:NONCE], wrapped[NONCE:], aad), False

    def wrap_raw(self, kid: str, raw: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE)
        return nonce + self._master.encrypt(nonce, raw, b"dek:" + kid.encode())

    def _unwrap(self, row: DataKey) -> AESGCM:
        if row.kid not in self._deks:
            self._deks[row.kid] = AESGCM(self.unwrap_raw(row.kid, row.wrapped)[0])
        return self._deks[row.kid]

    def _new_dek(self, session: Session) -> DataKey:
        kid = "k" + secrets.token_hex(6)
        wrapped = self.wrap_raw(kid, secrets.token_bytes(32))
        row = DataKey(kid=kid, wrapped=wrapped, active=True, created_at=self._clock.now())
        session.add(row)
        session.flush()
        return row

    def active_kid(self, session: Session) -> str:
        """The active DEK's id, its key unwrapped once per process: from the row this unit of work already has
        (`active`, `rotate`), else from the id and wrapped key its profile read brought (`prime`), else read."""
        row = session.info.get(ACTIVE_DEK)
        primed = session.info.get(PRIMED_DEK)
        if row is None and primed is not None:
            kid, wrapped = primed
            if kid not in self._deks:
                self._deks[kid] = AESGCM(self.unwrap_raw(kid, wrapped)[0])
            return kid
        row = row if row is not None else self.active(session)
        self._unwrap(row)
        return row.kid

    def active(self, session: Session) -> DataKey:
        """The active DEK, looked up once per unit of work (a rotation elsewhere is seen by the next one)."""
        row = session.info.get(ACTIVE_DEK)
        if row is None:
            row = session.exec(select(DataKey).where(DataKey.active == True)).first()  # noqa: E712
            row = row if row is not None else self._new_dek(session)
            session.info[ACTIVE_DEK] = row
        return row

    def encrypt(self, session: Session, plaintext: str, aad: str) -> tuple[bytes, str]:
        kid = self.active_kid(session)
        nonce = secrets.token_bytes(NONCE)
        return nonce + self._deks[kid].encrypt(nonce, plaintext.encode(), aad.encode()), kid

    def decrypt(self, session: Session, ciphertext: bytes, kid: str, aad: str) -> str:
        if kid not in self._deks:
            row = session.get(DataKey, kid)
            if row is None:
                raise KeyMaterialError(f"unknown data key id {kid}")
            self._unwrap(row)
        return self._deks[kid].decrypt(ciphertext[:NONCE], ciphertext[NONCE:], aad.encode()).decode()

    def rotate(self, session: Session) -> tuple[str | None, str]:
        """Retire the active DEK and start a new one; the caller re-encrypts the data."""
        old = session.exec(select(DataKey).where(DataKey.active == True)).first()  # noqa: E712
        if old is not None:
            old.active = False
            old.retired_at = self._clock.now()
            session.add(old)
            session.flush()
        new = self._new_dek(session)
        session.info[ACTIVE_DEK] = new
        return (old.kid if old else None), new.kid
