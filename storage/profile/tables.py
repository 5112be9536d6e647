"""The profile's tables: every imported version (never rewritten), and the steps of each case's checklist."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class UnitProfileVersion(SQLModel, table=True):
    """One version of the unit profile: the YAML as imported, and its validated form (JSON)."""

    __tablename__ = "unit_profile"

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(unique=True, index=True)
    name: str = Field(max_length=64)
    yaml_text: str = Field(sa_column=Column(Text, nullable=False))
    parsed: str = Field(sa_column=Column(Text, nullable=False))
    digest: str = Field(max_length=64)
    created_by: str = Field(max_length=128)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class CaseStep(SQLModel, table=True):
    """A step of a case's checklist: copied from its track's procedure at qualification (the version kept in
    `profile_version`), or added to the case by hand (`title_ct`, free text, encrypted)."""

    __tablename__ = "case_step"
    __table_args__ = (UniqueConstraint("case_id", "n"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    n: int
    profile_version: int | None = None
    title_da: str = Field(default="", max_length=200)
    title_en: str = Field(default="", max_length=200)
    title_ct: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    title_kid: str | None = Field(default=None, max_length=32)
    responsible: str = Field(max_length=16)
    assignee_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    anchor: str = Field(max_length=24)
    due_offset: str = Field(max_length=16)
    due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    required: bool = False
    on_agenda_when_late: bool = False
    state: str = Field(default="open", max_length=16, index=True)  # open | done | skipped (reason: timeline)
    done_by: int | None = Field(default=None, foreign_key="member.id")
    done_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    followup_id: int | None = None  # its reminder (no foreign key: retention erases follow-ups first)
    subject_id: int | None = None  # a family case's person whose own track's procedure this step is from
