"""Advice contacts (SPEC.md §10): a call or a question answered without opening a case — reference
H-YYYY-NNNN, who asked (source, district), a topic, the advice given (encrypted). No person, no deadline.
`concern promote` turns one into a case; `case_id` then points at it and the advice text has moved there."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class AdviceContact(SQLModel, table=True):
    __tablename__ = "advice_contact"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, index=True, max_length=16)
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    source: str = Field(max_length=32)
    district: str = Field(default="", max_length=64)
    topic: str = Field(max_length=32)
    text_ct: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    text_kid: str | None = Field(default=None, max_length=32)
    created_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)  # set: promoted to this case
    promoted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    fact_key: str | None = Field(default=None, unique=True, max_length=32)  # its row in report_contact
