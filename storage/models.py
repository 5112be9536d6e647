"""The schema. Only storage/ knows it; free text lives only in *_ct columns (AES-GCM ciphertext)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _ts(nullable: bool = False, index: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class Member(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(unique=True, index=True, max_length=128)
    platform: str = Field(max_length=16)
    display_name: str = Field(default="", max_length=128)
    role: str = Field(max_length=16)
    org: str = Field(max_length=16)
    active: bool = True
    created_at: datetime = Field(sa_column=_ts())


class Counter(SQLModel, table=True):
    """Gap-free sequences (case references per year, meeting ids, follow-up ids)."""

    name: str = Field(primary_key=True, max_length=64)
    value: int = 0


class Case(SQLModel, table=True):
    __tablename__ = "cases"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, index=True, max_length=16)
    state: str = Field(index=True, max_length=16)
    severity: str = Field(max_length=16)
    track: str = Field(max_length=16)
    source: str = Field(max_length=32)
    district: str = Field(max_length=64)
    basis: str = Field(max_length=16)
    indicators: str = Field(default="", max_length=512)
    level: str | None = Field(default=None, max_length=16)
    received_at: datetime = Field(sa_column=_ts())
    deadline_at: datetime = Field(sa_column=_ts(index=True))
    referred_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    deadline_met: bool | None = None
    responsible_org: str | None = Field(default=None, max_length=16)
    owner_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    reporter_id: int | None = Field(default=None, foreign_key="member.id")
    summary_ct: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    summary_kid: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())
    closed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    close_reason: str | None = Field(default=None, max_length=16)
    fact_key: str | None = Field(default=None, unique=True, index=True, max_length=32)  # rows: storage/fact_tables.py
    erased_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))  # set: a tombstone (retention)
    hold_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))  # set: erasure suspended
    hold_by: int | None = Field(default=None, foreign_key="member.id")
    hold_reason_ct: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    hold_reason_kid: str | None = Field(default=None, max_length=32)
    procedure_version: int | None = None  # the profile version whose procedure its checklist follows
    taken_over_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))  # set: *overtaget* (import)
    import_key: str | None = Field(default=None, unique=True, index=True, max_length=64)  # its import file rows
    release_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))  # a prison case's release
    # the timeline's last entry and last status review (a REVIEW_EVENTS entry), kept with each event written
    # (commands/cases/record.py `stamp`) so the agenda reads them here instead of aggregating the timeline
    last_event_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    reviewed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class CaseCheck(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("case_id", "org"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    org: str = Field(max_length=16)
    found: bool | None = None
    member_id: int | None = Field(default=None, foreign_key="member.id")
    at: datetime = Field(sa_column=_ts())


class Subject(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    pseudonym: str = Field(index=True, max_length=8)
    linked: bool = False
    age_band: str = Field(max_length=8)
    possible_repeat: bool = False
    created_at: datetime = Field(sa_column=_ts())
    # A family case's persons each have their own (SPEC.md §10); the first person's start as the case's.
    track: str | None = Field(default=None, max_length=16)
    relation: str | None = Field(default=None, max_length=16)  # child | parent | sibling | partner | other
    responsible_org: str | None = Field(default=None, max_length=16)
    owner_id: int | None = Field(default=None, foreign_key="member.id")
    referred_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Offer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    kind: str = Field(max_length=16)
    state: str = Field(max_length=16)
    consent: bool = False
    offered_by: int | None = Field(default=None, foreign_key="member.id")
    offered_at: datetime = Field(sa_column=_ts())
    responded_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Engagement(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    offer_id: int = Field(foreign_key="offer.id", unique=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    kind: str = Field(max_length=16)
    mentor_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    state: str = Field(max_length=16)
    started_at: datetime = Field(sa_column=_ts())
    ended_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    result: str | None = Field(default=None, max_length=16)  # completed | dropped_out | moved | other


class MentorSession(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    engagement_id: int = Field(foreign_key="engagement.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="member.id")
    held_at: datetime = Field(sa_column=_ts())
    note_ct: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    note_kid: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_column=_ts())
    missed: bool = False  # the person did not come to the agreed meeting


class Disclosure(SQLModel, table=True):
    """The disclosure log: who shared which categories of information about a case (or one of its persons)
    with which authority, on which legal basis of the profile, and when. `how`: "manual" (`case disclose`),
    "referral" or "check" (written by those use cases). `text_ct`: an optional short note (free text)."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    subject_id: int | None = Field(default=None, foreign_key="subject.id", index=True)
    org: str = Field(max_length=16)
    basis: str = Field(max_length=16)
    categories: str = Field(max_length=200)  # comma-separated DisclosureCategory codes
    how: str = Field(max_length=16)
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    at: datetime = Field(sa_column=_ts(index=True))
    text_ct: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    text_kid: str | None = Field(default=None, max_length=32)


class CaseEvent(SQLModel, table=True):
    """The timeline. `data` holds only categorical values (JSON); free text goes in text_ct."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    at: datetime = Field(sa_column=_ts(index=True))
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    kind: str = Field(max_length=32, index=True)
    data: str = Field(default="{}", max_length=2000)
    text_ct: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    text_kid: str | None = Field(default=None, max_length=32)


class AuditEntry(SQLModel, table=True):
    """Append-only, hash-chained: `content_hash` digests this entry's fields, `hash` covers `content_hash` and
    `prev_hash`. Retention may redact an entry's detail and purpose (`redacted` says why); its digest stays."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_ts())
    actor: str = Field(max_length=128)
    action: str = Field(max_length=64)
    case_ref: str | None = Field(default=None, index=True, max_length=16)
    result: str = Field(max_length=32)
    detail: str = Field(default="{}", max_length=2000)
    purpose_ct: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    purpose_kid: str | None = Field(default=None, max_length=32)
    prev_hash: str = Field(max_length=64)
    content_hash: str = Field(default="", max_length=64)
    hash: str = Field(max_length=64)
    redacted: str | None = Field(default=None, max_length=16)  # "retention" | "subject": detail/purpose removed


class DataKey(SQLModel, table=True):
    """Data-encryption keys, each wrapped (AES-GCM) by the master DATA_KEY."""

    kid: str = Field(primary_key=True, max_length=32)
    wrapped: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    active: bool = False
    created_at: datetime = Field(sa_column=_ts())
    retired_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class OutboxMessage(SQLModel, table=True):
    """Every outgoing channel post and DM, written in the transaction that caused it."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_column=_ts())
    target_kind: str = Field(max_length=16)  # "channel" | "user"
    target: str = Field(max_length=128, index=True)  # logical channel ("unit", "secretariat") or user id
    payload_ct: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    payload_kid: str = Field(max_length=32)
    state: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=_ts(index=True))
    claimed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    external_id: str | None = Field(default=None, max_length=128)
    dedupe_key: str | None = Field(default=None, unique=True, max_length=128)
    error: str | None = Field(default=None, max_length=200)
    replaces_id: int | None = Field(default=None)  # set: update that earlier message in place (chat.update)


class ProcessedRequest(SQLModel, table=True):
    """Platform request ids already acted on, so a platform's retry never acts twice."""

    key: str = Field(primary_key=True, max_length=128)
    at: datetime = Field(sa_column=_ts())


class FollowUp(SQLModel, table=True):
    """A deadline someone must act on (SPEC.md §4). `notify_at` is when the sweep next reminds."""

    __tablename__ = "followup"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, index=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    subject_id: int | None = Field(default=None, foreign_key="subject.id")
    engagement_id: int | None = Field(default=None, foreign_key="engagement.id", index=True)
    offer_id: int | None = Field(default=None, foreign_key="offer.id")
    assignee_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    due_at: datetime = Field(sa_column=_ts(index=True))
    notify_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True, index=True))
    stage: str = Field(default="due", max_length=16)  # visitation: warn → overdue → daily
    state: str = Field(default="pending", max_length=16, index=True)
    urgent: bool = False  # critical visitation: outside working hours too
    text_ct: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    text_kid: str | None = Field(default=None, max_length=32)
    reminders_sent: int = 0
    last_sent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_message_id: int | None = Field(default=None)  # the outbox row of the latest DM, to update it
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())


class MeetingSeries(SQLModel, table=True):
    """A recurring meeting (SPEC.md §3). `dtstart` is the first occurrence of the current rule (an edit moves
    it to the edit's date; the meetings before it are rows that keep their times); the rule runs in `tz` wall
    time. `sequence` is the iCalendar SEQUENCE of the series' one calendar event, raised on every change."""

    __tablename__ = "meetingseries"

    id: int | None = Field(default=None, primary_key=True)
    ref: str | None = Field(default=None, unique=True, max_length=16)  # S-N, shown to users
    name: str = Field(max_length=128)
    rrule: str = Field(max_length=512)  # RFC 5545 RRULE without DTSTART; UNTIL normalised to UTC
    tz: str = Field(max_length=64)
    dtstart: datetime = Field(sa_column=_ts())
    duration_min: int
    holiday_policy: str = Field(max_length=16)  # "skip" | "next_workday"
    channel: str = Field(default="unit", max_length=32)
    active: bool = True
    materialised_until: datetime = Field(sa_column=_ts())
    sequence: int = 0
    created_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(sa_column=_ts())


class Meeting(SQLModel, table=True):
    """One meeting, M-YYYY-NNN: a materialised occurrence of a series, or an ad hoc meeting."""

    __table_args__ = (UniqueConstraint("series_id", "original_start"),)

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, index=True, max_length=16)
    series_id: int | None = Field(default=None, foreign_key="meetingseries.id", index=True)
    kind: str = Field(max_length=16)  # "series" | "adhoc"
    starts_at: datetime = Field(sa_column=_ts(index=True))
    ends_at: datetime = Field(sa_column=_ts())
    original_start: datetime | None = Field(default=None, sa_column=_ts(nullable=True))  # the rule's instant
    state: str = Field(default="scheduled", max_length=16, index=True)  # scheduled | cancelled | closed
    topic_ct: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    topic_kid: str | None = Field(default=None, max_length=32)
    sequence: int = 0  # iCalendar SEQUENCE: bumped when the meeting changes
    held: bool = False  # the secretariat holds the agenda back from automatic publishing
    draft_sent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    published_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(sa_column=_ts())


class MeetingInvite(SQLModel, table=True):
    """An ad hoc participant invited to one meeting (fixed participants need no row)."""

    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    invited_by: int | None = Field(default=None, foreign_key="member.id")
    invited_at: datetime = Field(sa_column=_ts())


class AgendaEdit(SQLModel, table=True):
    """A secretariat edit of one meeting's agenda: kept apart from the built agenda so rebuilds keep it."""

    __table_args__ = (UniqueConstraint("meeting_id", "case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    case_id: int = Field(foreign_key="cases.id")
    action: str = Field(max_length=8)  # "add" | "remove"
    section: int | None = None  # add/move: the section to show it in (2–7)
    position: int | None = None  # move: 1-based place within its section
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    at: datetime = Field(sa_column=_ts())


class AgendaItem(SQLModel, table=True):
    """The latest built agenda of a meeting (a snapshot): what invited ad hoc participants may see."""

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    section: int
    position: int
    reason: str = Field(max_length=32)


class MinuteEntry(SQLModel, table=True):
    """A decision recorded on a case during a meeting; the text is free text, encrypted."""

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    text_ct: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    text_kid: str = Field(max_length=32)
    due_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    followup_id: int | None = Field(default=None, foreign_key="followup.id")
    author_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(sa_column=_ts())
    owner_id: int | None = Field(default=None, foreign_key="member.id")  # who follows it up (default: the case's)
    makes_followup: bool = True  # "opret opfølgning": a due date makes a follow-up when the meeting closes


class MeetingOutcome(SQLModel, table=True):
    """A case on a meeting's agenda dealt with without a decision: postponed (to the next meeting) or no change."""

    __table_args__ = (UniqueConstraint("meeting_id", "case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    case_id: int = Field(foreign_key="cases.id")
    outcome: str = Field(max_length=16)  # "postponed" | "unchanged"
    to_meeting_id: int | None = Field(default=None, foreign_key="meeting.id")  # postponed: the next meeting
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    at: datetime = Field(sa_column=_ts())


class Attendance(SQLModel, table=True):
    """Who was present at a meeting (ticked off the invited by the secretariat)."""

    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    at: datetime = Field(sa_column=_ts())


class Publication(SQLModel, table=True):
    """A published agenda or closed minutes, frozen as sent: the chat text, the Markdown and the PDF
    (encrypted, since minutes hold decisions), and the case references it listed, per version."""

    __table_args__ = (UniqueConstraint("meeting_id", "kind", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    kind: str = Field(max_length=16)  # "agenda" | "minutes"
    version: int
    published_at: datetime = Field(sa_column=_ts())
    published_by: int | None = Field(default=None, foreign_key="member.id")
    refs: str = Field(default="", sa_column=Column(Text, nullable=False))  # comma-separated case references
    text_ct: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    text_kid: str = Field(max_length=32)
    md_ct: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    md_kid: str = Field(max_length=32)
    pdf_ct: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    pdf_kid: str = Field(max_length=32)


class CalendarFeed(SQLModel, table=True):
    """A member's calendar feed. Only a hash of the token is kept; `nonce` changes on reset (revocation)."""

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", unique=True)
    nonce: str = Field(max_length=64)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    created_at: datetime = Field(sa_column=_ts())


class TeamsConversation(SQLModel, table=True):
    """Where the Teams bot can reach someone proactively: a user's 1:1 chat, or a channel (bot/teams).

    Stored when a user or channel first talks to the bot or installs it. `key` is the user's Entra object id
    (kind "user") or the channel's conversation id (kind "channel"). A user seen only in a channel has no
    `conversation_id` yet: the 1:1 chat is created from `teams_user_id` when first needed.
    """

    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # "user" | "channel"
    key: str = Field(max_length=256)
    conversation_id: str | None = Field(default=None, max_length=512)
    service_url: str = Field(max_length=512)
    tenant_id: str = Field(max_length=64)
    teams_user_id: str | None = Field(default=None, max_length=256, index=True)  # "29:…", per bot
    bot_id: str | None = Field(default=None, max_length=256)  # "28:…"
    display_name: str = Field(default="", max_length=128)
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())


class TeamsFile(SQLModel, table=True):
    """A file offered in a Teams 1:1 chat (bot/teams/files.py), waiting for its user to save it.

    A bot can put a file into a chat only through the user's OneDrive, after the user allowed it, so the file
    waits here — encrypted (minutes carry decisions), under a random token that the card's button carries, for
    the one user it was offered to — until `expires_at`. `key` makes offering the same file twice (a retried
    outbox row) one offer.
    """

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True)
    key: str | None = Field(default=None, max_length=128, unique=True)
    user_id: str = Field(max_length=256, index=True)
    content_ct: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    content_kid: str = Field(max_length=32)
    size: int
    created_at: datetime = Field(sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts(index=True))


import storage.contacts  # noqa: E402,F401  (advice contacts)
import storage.fact_tables  # noqa: E402,F401  (the report fact tables share this metadata)
import storage.profile.tables  # noqa: E402,F401  (profile versions and case steps)
import storage.teams_tables  # noqa: E402,F401  (Teams details shown and app installs, migration 0015)
