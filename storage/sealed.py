"""Every encrypted column, declared once: its table, its ciphertext and key-id columns, and its label.

The label is the AES-GCM associated data: a ciphertext opens only with the label it was sealed under, so the
code that encrypts, the code that decrypts and `unit keys rotate` (storage/rekey.py) all read it from here.
Changing a label makes every stored ciphertext of that column unreadable; tests/storage/test_sealed.py pins
each one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import SQLModel

from storage.contacts import AdviceContact
from storage.models import (
    AuditEntry,
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


@dataclass(frozen=True)
class Sealed:
    model: type[SQLModel]
    ct: str
    kid: str
    label: str


CASE_SUMMARY = Sealed(Case, "summary_ct", "summary_kid", "case.summary")
CASE_HOLD = Sealed(Case, "hold_reason_ct", "hold_reason_kid", "case.hold")
EVENT_TEXT = Sealed(CaseEvent, "text_ct", "text_kid", "event.text")
MENTOR_NOTE = Sealed(MentorSession, "note_ct", "note_kid", "mentor.note")
OUTBOX_PAYLOAD = Sealed(OutboxMessage, "payload_ct", "payload_kid", "outbox.payload")
FOLLOWUP_TEXT = Sealed(FollowUp, "text_ct", "text_kid", "followup.text")
MEETING_TOPIC = Sealed(Meeting, "topic_ct", "topic_kid", "meeting.topic")
MINUTES_TEXT = Sealed(MinuteEntry, "text_ct", "text_kid", "minutes.text")
TEAMS_FILE = Sealed(TeamsFile, "content_ct", "content_kid", "teams.file")
PUBLICATION_TEXT = Sealed(Publication, "text_ct", "text_kid", "publication.text")
PUBLICATION_MD = Sealed(Publication, "md_ct", "md_kid", "publication.md")
PUBLICATION_PDF = Sealed(Publication, "pdf_ct", "pdf_kid", "publication.pdf")
STEP_TITLE = Sealed(CaseStep, "title_ct", "title_kid", "step.title")
ADVICE_TEXT = Sealed(AdviceContact, "text_ct", "text_kid", "advice.text")
DISCLOSURE_TEXT = Sealed(Disclosure, "text_ct", "text_kid", "disclosure.text")
AUDIT_PURPOSE = Sealed(AuditEntry, "purpose_ct", "purpose_kid", "audit.purpose")

# What `unit keys rotate` re-encrypts: every column except audit purposes, which stay under their (retired,
# still stored) key so the audit hash chain stays valid.
ROTATED: tuple[Sealed, ...] = (
    CASE_SUMMARY, CASE_HOLD, EVENT_TEXT, MENTOR_NOTE, OUTBOX_PAYLOAD, FOLLOWUP_TEXT, MEETING_TOPIC,
    MINUTES_TEXT, TEAMS_FILE, PUBLICATION_TEXT, PUBLICATION_MD, PUBLICATION_PDF, STEP_TITLE, ADVICE_TEXT,
    DISCLOSURE_TEXT,
)
ALL: tuple[Sealed, ...] = (*ROTATED, AUDIT_PURPOSE)
