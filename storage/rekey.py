"""Re-encrypting free text under the active data key after `unit keys rotate`."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.contacts import ADVICE_AAD, AdviceContact
from storage.crypto import Vault
from storage.models import (
    Case,
    CaseEvent,
    Disclosure,
    FollowUp,
    Meeting,
    MentorSession,
    MinuteEntry,
    OutboxMessage,
    Publication,
    TeamsFile,
)
from storage.profile.tables import CaseStep
from storage.teams import FILE_AAD

# (model, ciphertext column, key-id column, associated data) — every encrypted field except audit purposes,
# which stay under their (retired, still stored) key so the audit hash chain stays valid.
ENCRYPTED = (
    (Case, "summary_ct", "summary_kid", "case.summary"),
    (Case, "hold_reason_ct", "hold_reason_kid", "case.hold"),
    (CaseEvent, "text_ct", "text_kid", "event.text"),
    (MentorSession, "note_ct", "note_kid", "mentor.note"),
    (OutboxMessage, "payload_ct", "payload_kid", "outbox.payload"),
    (FollowUp, "text_ct", "text_kid", "followup.text"),
    (Meeting, "topic_ct", "topic_kid", "meeting.topic"),
    (MinuteEntry, "text_ct", "text_kid", "minutes.text"),
    (TeamsFile, "content_ct", "content_kid", FILE_AAD),
    (Publication, "text_ct", "text_kid", "publication.text"),
    (Publication, "md_ct", "md_kid", "publication.md"),
    (Publication, "pdf_ct", "pdf_kid", "publication.pdf"),
    (CaseStep, "title_ct", "title_kid", "step.title"),
    (AdviceContact, "text_ct", "text_kid", ADVICE_AAD),
    (Disclosure, "text_ct", "text_kid", "disclosure.text"),
)


def reencrypt(session: Session, vault: Vault) -> int:
    active = vault.active(session).kid
    count = 0
    for model, ct_col, kid_col, aad in ENCRYPTED:
        kid_attr = getattr(model, kid_col)
        for row in session.exec(select(model).where(kid_attr.is_not(None), kid_attr != active)):
            plaintext = vault.decrypt(session, getattr(row, ct_col), getattr(row, kid_col), aad)
            ct, kid = vault.encrypt(session, plaintext, aad)
            setattr(row, ct_col, ct)
            setattr(row, kid_col, kid)
            session.add(row)
            count += 1
    session.flush()
    return count
