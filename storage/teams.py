"""Teams conversation references: where the bot can reach a user's 1:1 chat or a channel proactively, and who
it cannot reach yet; and the files offered in a 1:1 chat until their user saves them.

Only storage/ knows the schema; bot/teams calls these with its own unit of work. A reference holds ids and a
service URL, never message contents; an offered file is encrypted like all free text.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage import sealed
from storage.crypto import Vault
from storage.db import unit_of_work
from storage.models import Member, OutboxMessage, TeamsConversation, TeamsFile
from storage.teams_tables import TeamsReach

USER, CHANNEL = "user", "channel"
PLATFORM = "teams"
NO_REFERENCE = "no conversation reference"  # the outbox error of a row Teams cannot deliver yet
FILE_LIFETIME = timedelta(days=14)  # an offered file not saved by then is gone: ask for it again


@dataclass(frozen=True)
class Seen:
    """What one incoming activity tells about where its sender (or its channel) can be reached."""

    kind: str
    key: str
    service_url: str
    tenant_id: str
    conversation_id: str | None = None  # a user's 1:1 chat; None when seen only in a channel or group chat
    teams_user_id: str | None = None
    bot_id: str | None = None
    display_name: str = ""


@dataclass(frozen=True)
class Ref:
    kind: str
    key: str
    conversation_id: str | None
    service_url: str
    tenant_id: str
    teams_user_id: str | None
    bot_id: str | None
    display_name: str


def _ref(row: TeamsConversation) -> Ref:
    return Ref(row.kind, row.key, row.conversation_id, row.service_url, row.tenant_id, row.teams_user_id,
               row.bot_id, row.display_name)


def _apply(row: TeamsConversation, seen: Seen, now: datetime) -> bool:
    """Copy what is new; a user's known 1:1 chat is never forgotten because they spoke in a channel."""
    changes = {
        "service_url": seen.service_url[:512],
        "tenant_id": seen.tenant_id[:64],
        "conversation_id": (seen.conversation_id or row.conversation_id or None),
        "teams_user_id": seen.teams_user_id or row.teams_user_id,
        "bot_id": seen.bot_id or row.bot_id,
        "display_name": (seen.display_name or row.display_name or "")[:128],
    }
    changed = False
    for name, value in changes.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    if changed:
        row.updated_at = now
    return changed


def remember(engine, seen: Seen, now: datetime) -> bool:  # noqa: ANN001
    """Insert or update one reference; writes only when something changed. Safe against a concurrent insert.

    Returns True when this made the user or channel reachable for the first time: outbox rows that were
    waiting for it are then released for delivery at once.
    """
    for _attempt in range(2):
        try:
            with unit_of_work(engine) as session:
                row = session.exec(select(TeamsConversation).where(
                    TeamsConversation.kind == seen.kind, TeamsConversation.key == seen.key)).first()
                if row is None:
                    row = TeamsConversation(kind=seen.kind, key=seen.key[:256], service_url="", tenant_id="",
                                            created_at=now, updated_at=now)
                    _apply(row, seen, now)
                    session.add(row)
                    reachable = True
                else:
                    had_chat = bool(row.conversation_id or row.teams_user_id)
                    if _apply(row, seen, now):
                        session.add(row)
                    reachable = not had_chat and bool(row.conversation_id or row.teams_user_id)
                if reachable:
                    _release(session, seen.kind, seen.key, now)
            return reachable
        except IntegrityError:
            continue  # another request inserted the same reference meanwhile: update it instead
    return False


def _release(session: Session, kind: str, key: str, now: datetime) -> None:
    """Rows held back for want of a reference are due now (a channel's rows name it logically: all of them)."""
    stmt = (update(OutboxMessage)
            .where(OutboxMessage.state == "pending", OutboxMessage.error == NO_REFERENCE,
                   OutboxMessage.target_kind == kind)
            .values(next_attempt_at=now))
    if kind == USER:
        stmt = stmt.where(OutboxMessage.target == key)
    session.exec(stmt)  # type: ignore[call-overload]


def find(session: Session, kind: str, key: str) -> Ref | None:
    row = session.exec(select(TeamsConversation).where(
        TeamsConversation.kind == kind, TeamsConversation.key == key)).first()
    return None if row is None else _ref(row)


def set_conversation(engine, user_key: str, conversation_id: str, now: datetime) -> None:  # noqa: ANN001
    """Record the 1:1 chat the bot opened with a user."""
    with unit_of_work(engine) as session:
        row = session.exec(select(TeamsConversation).where(
            TeamsConversation.kind == USER, TeamsConversation.key == user_key)).first()
        if row is not None and row.conversation_id != conversation_id:
            row.conversation_id, row.updated_at = conversation_id[:512], now
            session.add(row)


def user_for_teams_id(session: Session, teams_user_id: str) -> str | None:
    """The Entra object id behind a Teams user id ("29:…"), when that user has talked to the bot."""
    return session.exec(select(TeamsConversation.key).where(
        TeamsConversation.kind == USER, TeamsConversation.teams_user_id == teams_user_id)).first()


def names(session: Session, user_ids: set[str]) -> dict[str, str]:
    """Display names for mentions: what Teams told us, else the name given at `unit add … name=…`."""
    if not user_ids:
        return {}
    found = {m.user_id: m.display_name for m in session.exec(
        select(Member).where(col(Member.user_id).in_(user_ids))) if m.display_name}
    for key, name in session.exec(select(TeamsConversation.key, TeamsConversation.display_name).where(
            TeamsConversation.kind == USER, col(TeamsConversation.key).in_(user_ids))):
        if name:
            found[key] = name
    return found


def without_reference(session: Session) -> list[str]:
    """Active members on Teams whom the bot cannot reach: no reference to a 1:1 chat, nor a Teams id to open
    one with (they have never installed the app nor been seen in a channel)."""
    members = set(session.exec(select(Member.user_id).where(Member.platform == "teams",
                                                            Member.active == True)))  # noqa: E712
    if not members:
        return []
    reachable = set(session.exec(select(TeamsConversation.key).where(
        TeamsConversation.kind == "user", col(TeamsConversation.key).in_(members),
        (col(TeamsConversation.conversation_id).is_not(None)) | (col(TeamsConversation.teams_user_id).is_not(None)))))
    return sorted(members - reachable)


def reach_due(engine, now: datetime, retry_after: timedelta) -> list[str]:  # noqa: ANN001
    """Members without a reference the bot should try to install itself for now: never tried, asked for again
    (`unit reach`), or failed long enough ago."""
    with unit_of_work(engine) as session:
        missing = without_reference(session)
        if not missing:
            return []
        tried = {r.user_id: r for r in session.exec(select(TeamsReach).where(col(TeamsReach.user_id).in_(missing)))}
        return [u for u in missing if u not in tried or tried[u].state == "requested"
                or (tried[u].state == "failed" and tried[u].at <= now - retry_after)]


def service_url_for(session: Session, tenant_id: str | None) -> str | None:
    """Any service URL recently seen for this tenant: Teams serves a tenant's conversations from one region."""
    stmt = select(TeamsConversation.service_url).order_by(col(TeamsConversation.updated_at).desc())
    if tenant_id:
        stmt = stmt.where(TeamsConversation.tenant_id == tenant_id)
    return session.exec(stmt).first()


@dataclass(frozen=True)
class OfferedFile:
    filename: str
    content_type: str
    data: bytes


def offer_files(session: Session, vault: Vault, user_id: str, files: list[OfferedFile], now: datetime,
                key: str | None = None) -> list[str]:
    """The tokens under which `user_id` (and only they) can save these files, in order; with `key`, the same
    tokens again when these files were offered before. Expired offers are deleted on the way."""
    session.exec(delete(TeamsFile).where(col(TeamsFile.expires_at) <= now))  # type: ignore[call-overload]
    return [_offer(session, vault, user_id, file, now, f"{key}:{n}" if key else None) for n, file in enumerate(files)]


def _offer(session: Session, vault: Vault, user_id: str, file: OfferedFile, now: datetime, key: str | None) -> str:
    if key is not None:
        known = session.exec(select(TeamsFile.token).where(TeamsFile.key == key)).first()
        if known is not None:
            return known
    plaintext = json.dumps({"filename": file.filename, "content_type": file.content_type, "data": file.data.hex()})
    ct, kid = vault.encrypt(session, plaintext, sealed.TEAMS_FILE.label)
    token = secrets.token_urlsafe(24)
    session.add(TeamsFile(token=token, key=key, user_id=user_id, content_ct=ct, content_kid=kid,
                          size=len(file.data), created_at=now, expires_at=now + FILE_LIFETIME))
    session.flush()
    return token


def offered_file(session: Session, vault: Vault, token: str, user_id: str, now: datetime) -> OfferedFile | None:
    """The file behind a token, for the user it was offered to while the offer lasts; None otherwise."""
    row = session.exec(select(TeamsFile).where(TeamsFile.token == token, TeamsFile.user_id == user_id,
                                               col(TeamsFile.expires_at) > now)).first()
    if row is None:
        return None
    data = json.loads(vault.decrypt(session, row.content_ct, row.content_kid, sealed.TEAMS_FILE.label))
    return OfferedFile(data["filename"], data["content_type"], bytes.fromhex(data["data"]))
