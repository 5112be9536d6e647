"""The anonymous fact store that reports read (SPEC.md §5): categories, local dates and durations only.

No reference, pseudonym, user id or free text. Rows are grouped by `fact_key`, a random key that only the
live case row (`cases.fact_key`) points at; retention erasure clears that pointer, after which nothing links
a fact back to a reference, and the facts stay for the reports of past years. No foreign keys on purpose.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _ts(nullable: bool = True) -> Column:
    return Column(UTCDateTime(), nullable=nullable)


def _day(nullable: bool = True, index: bool = False) -> Column:
    return Column(Date(), nullable=nullable, index=index)


class ReportCase(SQLModel, table=True):
    __tablename__ = "report_case"

    fact_key: str = Field(primary_key=True, max_length=32)
    received_on: date = Field(sa_column=_day(nullable=False, index=True))  # local calendar day
    severity: str = Field(max_length=16)
    track: str = Field(max_length=16)
    source: str = Field(max_length=32)
    district: str = Field(max_length=64)
    basis: str = Field(max_length=16)
    level: str | None = Field(default=None, max_length=16)
    indicators: str = Field(default="", max_length=512)
    deadline_at: datetime = Field(sa_column=_ts(nullable=False))  # the first visitation deadline
    referred_at: datetime | None = Field(default=None, sa_column=_ts())  # the first referral
    deadline_met: bool | None = None
    hours_late: float | None = None  # referral minus deadline, in hours (negative: early)
    referral_org: str | None = Field(default=None, max_length=16)
    closed_on: date | None = Field(default=None, sa_column=_day(index=True))  # local day; None while open
    close_reason: str | None = Field(default=None, max_length=16)
    days_open: int | None = None


class ReportSubject(SQLModel, table=True):
    __tablename__ = "report_subject"

    id: int | None = Field(default=None, primary_key=True)
    fact_key: str = Field(max_length=32, index=True)
    n: int  # the subject's place in its case (1, 2, …): links offers and engagements within the case
    age_band: str = Field(max_length=8)
    track: str | None = Field(default=None, max_length=16)  # the person's own track (a family case)
    relation: str | None = Field(default=None, max_length=16)
    org: str | None = Field(default=None, max_length=16)  # the person's responsible authority


class ReportOffer(SQLModel, table=True):
    __tablename__ = "report_offer"

    id: int | None = Field(default=None, primary_key=True)
    fact_key: str = Field(max_length=32, index=True)
    subject_n: int
    kind: str = Field(max_length=16)
    offered_at: datetime = Field(sa_column=_ts(nullable=False))
    offered_on: date = Field(sa_column=_day(nullable=False, index=True))
    response: str = Field(max_length=16)  # pending | accepted | declined | withdrawn
    responded_at: datetime | None = Field(default=None, sa_column=_ts())
    responded_on: date | None = Field(default=None, sa_column=_day(index=True))


class ReportEngagement(SQLModel, table=True):
    __tablename__ = "report_engagement"

    id: int | None = Field(default=None, primary_key=True)
    fact_key: str = Field(max_length=32, index=True)
    subject_n: int
    kind: str = Field(max_length=16)
    started_on: date = Field(sa_column=_day(nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=_ts())
    ended_on: date | None = Field(default=None, sa_column=_day(index=True))
    not_at_risk_6m: bool | None = None  # the 6-month check's answer; None: not answered yet
    in_education_12m: bool | None = None  # the 12-month check's answer; None: not answered yet
    result: str | None = Field(default=None, max_length=16)  # completed | dropped_out | moved | other


class ReportStep(SQLModel, table=True):
    """A procedure step of a case's checklist (not a step a user added by hand): when it was due and when it
    was done or skipped. Whether it was on time is judged when a report is made (an open step past its due
    time is late by then)."""

    __tablename__ = "report_step"

    id: int | None = Field(default=None, primary_key=True)
    fact_key: str = Field(max_length=32, index=True)
    n: int
    due_at: datetime | None = Field(default=None, sa_column=_ts())  # None: its anchor has not happened yet
    due_on: date | None = Field(default=None, sa_column=_day(index=True))  # local day
    state: str = Field(max_length=16)  # open | done | skipped
    done_at: datetime | None = Field(default=None, sa_column=_ts())  # done or skipped


class ReportContact(SQLModel, table=True):
    """An advice contact (no case): when, who asked, about what; `promoted_on` when it became a case (the
    case then counts as the contact)."""

    __tablename__ = "report_contact"

    fact_key: str = Field(primary_key=True, max_length=32)
    received_on: date = Field(sa_column=_day(nullable=False, index=True))
    source: str = Field(max_length=32)
    district: str = Field(default="", max_length=64)
    topic: str = Field(max_length=32)
    promoted_on: date | None = Field(default=None, sa_column=_day())


class ReportTakeover(SQLModel, table=True):
    """A case taken over by import (*overtaget*): the visitation target leaves it out. Written once by the
    import, beside the case's derived facts (which the derivation rewrites; this row it leaves alone)."""

    __tablename__ = "report_takeover"

    fact_key: str = Field(primary_key=True, max_length=32)
    taken_over_on: date = Field(sa_column=_day(nullable=False))
