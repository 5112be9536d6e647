"""Frozen publications (SPEC.md §3): a published agenda and closed minutes are kept exactly as they were sent
— the chat text, the Markdown and the PDF — per version, so the archive copy is the one the unit received.

Stored encrypted (minutes hold decisions, free text); the case references listed are kept beside them, so
`agenda M-…` can say what would change if the agenda were published again.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from commands.context import Services
from commands.reply import Attachment
from storage import sealed
from storage.models import Meeting, Publication


@dataclass(frozen=True)
class Frozen:
    version: int
    published_at: datetime
    text: str
    markdown: bytes
    pdf: bytes
    refs: tuple[str, ...]


def latest_version(session: Session, meeting: Meeting, kind: str) -> int:
    row = session.exec(select(Publication.version).where(Publication.meeting_id == meeting.id,
                                                         Publication.kind == kind)
                       .order_by(col(Publication.version).desc())).first()
    return row or 0


def freeze(svc: Services, session: Session, meeting: Meeting, kind: str, text: str,
           attachments: list[Attachment], refs: list[str], now: datetime, by: int | None) -> int:
    """Store what was just sent as the next version; returns its number."""
    files = {a.filename.rsplit(".", 1)[-1]: a.data for a in attachments}
    version = latest_version(session, meeting, kind) + 1
    text_ct, text_kid = svc.vault.encrypt(session, text, sealed.PUBLICATION_TEXT.label)
    md_ct, md_kid = svc.vault.encrypt(session, base64.b64encode(files["md"]).decode(), sealed.PUBLICATION_MD.label)
    pdf_ct, pdf_kid = svc.vault.encrypt(session, base64.b64encode(files["pdf"]).decode(), sealed.PUBLICATION_PDF.label)
    session.add(Publication(meeting_id=meeting.id, kind=kind, version=version, published_at=now,  # type: ignore[arg-type]
                            published_by=by, refs=",".join(dict.fromkeys(refs)), text_ct=text_ct,
                            text_kid=text_kid, md_ct=md_ct, md_kid=md_kid, pdf_ct=pdf_ct, pdf_kid=pdf_kid))
    session.flush()
    return version


def latest(svc: Services, session: Session, meeting: Meeting, kind: str) -> Frozen | None:
    row = session.exec(select(Publication).where(Publication.meeting_id == meeting.id, Publication.kind == kind)
                       .order_by(col(Publication.version).desc())).first()
    if row is None:
        return None
    dec = svc.vault.decrypt
    return Frozen(row.version, row.published_at, dec(session, row.text_ct, row.text_kid, sealed.PUBLICATION_TEXT.label),
                  base64.b64decode(dec(session, row.md_ct, row.md_kid, sealed.PUBLICATION_MD.label)),
                  base64.b64decode(dec(session, row.pdf_ct, row.pdf_kid, sealed.PUBLICATION_PDF.label)),
                  tuple(r for r in row.refs.split(",") if r))


def frozen_attachments(frozen: Frozen, stem: str, again: str = "") -> list[Attachment]:
    return [Attachment(f"{stem}.md", "text/markdown", frozen.markdown, f"{again} format=md" if again else ""),
            Attachment(f"{stem}.pdf", "application/pdf", frozen.pdf, f"{again} format=pdf" if again else "")]
