"""Files in a Teams 1:1 chat: agenda and minutes exports, meeting invitations (.ics).

A bot can hand a user a file only through the user's OneDrive, and only after the user allowed it (Teams'
file consent card; personal chats only). So a file in an answer or a DM is *offered*: kept encrypted for that
one user (storage/teams.py) and shown with a *Save* button → the consent card → *Allow* brings an upload URL,
the file is put there, and a file card in the chat opens it. Channels never carry files: their cards offer a
button that gives the file privately instead (bot/teams/render.py). Nothing here logs names or contents.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
from sqlmodel import Session

from bot.teams import render
from bot.teams.sdk import Attachment as SdkAttachment
from bot.teams.sdk import MessageActivityInput
from commands.context import Services
from commands.messages import t
from commands.reply import Attachment
from storage import audit
from storage import teams as refs
from storage.db import unit_of_work

log = logging.getLogger(__name__)
UPLOAD_TIMEOUT_S = 60


def offer_in(session: Session, svc: Services, user_id: str, attachments: list[Attachment],
             key: str | None = None) -> list[str]:
    """Offer each file to `user_id` inside the caller's unit of work; their tokens, in order. With `key`, a
    second offer of the same files (a retried delivery) gives the same tokens."""
    files = [refs.OfferedFile(a.filename, a.content_type, a.data) for a in attachments]
    return refs.offer_files(session, svc.vault, user_id, files, svc.clock.now(), key) if files else []


def offer(svc: Services, user_id: str, attachments: list[Attachment]) -> list[str]:
    with unit_of_work(svc.engine) as session:
        return offer_in(session, svc, user_id, attachments)


def _offered(svc: Services, token: str, user_id: str, saving: bool) -> refs.OfferedFile | None:
    """The file, if it was offered to this user and the offer lasts; saving it is audited like a view."""
    with unit_of_work(svc.engine) as session:
        file = refs.offered_file(session, svc.vault, token, user_id, svc.clock.now())
        if file is not None and saving:
            audit.record(session, clock=svc.clock, vault=svc.vault, actor=user_id, action="file.save",
                         detail={"file": file.filename, "size": len(file.data)})
        return file


def token_of(data: Any) -> str:
    token = render.meta(data if isinstance(data, dict) else None).get("file")
    return token if isinstance(token, str) else ""


async def consent_request(svc: Services, user_id: str, token: str) -> MessageActivityInput | None:
    """The *Save* button's answer: the consent card for the file; None when the file is not (or no longer)
    this user's to save."""
    file = await asyncio.to_thread(_offered, svc, token, user_id, False)
    if file is None:
        return None
    consent = render.file_consent(file.filename, len(file.data), token, svc.lang)
    return MessageActivityInput().add_attachments(SdkAttachment(
        content_type=consent["contentType"], name=consent["name"], content=consent["content"]))


async def save(svc: Services, user_id: str, token: str, upload_info: Any) -> MessageActivityInput:
    """The user allowed the file: put it at the upload URL Teams gave (their OneDrive), then answer with the
    file's card — or say that it is gone, or could not be saved."""
    file = await asyncio.to_thread(_offered, svc, token, user_id, True)
    upload_url = getattr(upload_info, "upload_url", None)
    if file is None or not upload_url:
        return MessageActivityInput(text=t(svc.lang, "teams.file_gone"))
    size = len(file.data)
    try:
        async with httpx.AsyncClient(timeout=UPLOAD_TIMEOUT_S) as client:
            response = await client.put(upload_url, content=file.data, headers={
                "Content-Length": str(size), "Content-Range": f"bytes 0-{size - 1}/{size}"})
            response.raise_for_status()
    except httpx.HTTPError as exc:
        status = exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else type(exc).__name__
        log.warning("a file could not be put in the user's OneDrive (%s)", status)
        return MessageActivityInput(text=t(svc.lang, "teams.file_failed", filename=file.filename))
    info = render.file_info(upload_info.content_url or "", upload_info.name or file.filename,
                            upload_info.unique_id or "", upload_info.file_type or file.filename.rsplit(".", 1)[-1])
    return MessageActivityInput().add_attachments(SdkAttachment(
        content_type=info["contentType"], content_url=info["contentUrl"], name=info["name"], content=info["content"]))
