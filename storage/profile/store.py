"""The current unit profile: the latest stored version, or — until the first import — the one UNIT_PROFILE
names (shipped name or path), counted as version 1. Parsed profiles are cached by their digest."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import literal, true
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from storage.crypto import active_key_columns, prime
from storage.profile.load import load_text, source_text
from storage.profile.schema import Profile
from storage.profile.tables import UnitProfileVersion
from storage.settings import Settings

_CACHE: dict[str, Profile] = {}


@dataclass(frozen=True)
class Current:
    version: int
    profile: Profile
    stored: bool  # False: UNIT_PROFILE's profile, not yet written to the database


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def initial(settings: Settings) -> tuple[str, Profile]:
    text = source_text(settings.unit_profile)
    key = "initial:" + digest(text)
    if key not in _CACHE:
        _CACHE[key] = load_text(text)
    return text, _CACHE[key]


def current(session: Session, settings: Settings) -> Current:
    latest = (select(UnitProfileVersion.version, UnitProfileVersion.digest, UnitProfileVersion.id)
              .order_by(col(UnitProfileVersion.version).desc()).limit(1).subquery())
    anchor = select(literal(1).label("one")).subquery()  # a row even before a profile is stored
    version, key, row_id, kid, wrapped = session.execute(  # the data key comes along: no round trip of its own
        select(latest.c.version, latest.c.digest, latest.c.id, *active_key_columns())
        .select_from(anchor.outerjoin(latest, true()))).one()
    prime(session, kid, wrapped)
    if version is None:
        return Current(1, initial(settings)[1], stored=False)
    if key not in _CACHE:
        parsed = session.exec(select(UnitProfileVersion.parsed).where(UnitProfileVersion.id == row_id)).one()
        _CACHE[key] = Profile.model_validate_json(parsed)
    return Current(version, _CACHE[key], stored=True)


def profile(session: Session, settings: Settings) -> Profile:
    """What use cases read: the unit's current profile."""
    return current(session, settings).profile


def stored_text(session: Session, settings: Settings) -> tuple[int, str]:
    row = session.exec(select(UnitProfileVersion).order_by(col(UnitProfileVersion.version).desc()).limit(1)).first()
    if row is None:
        return 1, initial(settings)[0]
    return row.version, row.yaml_text


def _add(session: Session, version: int, text: str, parsed: Profile, actor: str, now: datetime) -> UnitProfileVersion:
    body = parsed.model_dump_json()
    key = digest(body)
    _CACHE.setdefault(key, parsed)
    row = UnitProfileVersion(version=version, name=parsed.name, yaml_text=text, parsed=body, digest=key,
                             created_by=actor[:128], created_at=now)
    session.add(row)
    session.flush()
    return row


def pin_initial(session: Session, settings: Settings, now: datetime) -> None:
    """Write UNIT_PROFILE's profile as version 1 unless a version is stored (a concurrent pin is harmless)."""
    if session.exec(select(func.count()).select_from(UnitProfileVersion)).one():
        return
    text, parsed = initial(settings)
    try:
        with session.begin_nested():
            _add(session, 1, text, parsed, "UNIT_PROFILE", now)
    except IntegrityError:
        pass


def save(session: Session, settings: Settings, text: str, parsed: Profile, actor: str, now: datetime
         ) -> UnitProfileVersion:
    pin_initial(session, settings, now)
    latest = session.exec(select(func.max(UnitProfileVersion.version))).one() or 0
    return _add(session, latest + 1, text, parsed, actor, now)


def as_json(parsed: Profile) -> dict:
    return json.loads(parsed.model_dump_json())
