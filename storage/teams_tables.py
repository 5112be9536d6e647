"""Two small Teams tables (migration 0015): messages that showed case details and become a stub after
TEAMS_DETAILS_TTL, and what the bot knows about installing itself for a member through Microsoft Graph.

Neither holds message contents: ids, times and states only. storage/models.py imports this module (one metadata),
so it imports nothing from there; who has no conversation reference is storage/teams.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Column
from sqlmodel import Field, Session, SQLModel, col, select

from storage.db import unit_of_work
from storage.types import UTCDateTime


class TeamsShown(SQLModel, table=True):
    """A Teams message that carried case details (a proactive DM): replaced by a stub at `stub_at`.

    Driven by the worker (or the server's delivery loop), so a restart loses nothing: the ids are here.
    """

    __tablename__ = "teams_shown"

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=256, index=True)
    service_url: str = Field(max_length=512)
    conversation_id: str = Field(max_length=512)
    activity_id: str = Field(max_length=256)
    reopen: str = Field(default="", max_length=256)  # the command that shows it again (the stub's button)
    shown_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    stub_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    done: bool = Field(default=False, index=True)


class TeamsReach(SQLModel, table=True):
    """Installing the app for a member who has no 1:1 chat with the bot (Microsoft Graph, bot/teams/graph.py).

    `state`: "installed" (asked Graph; the chat's reference follows), "forbidden" (no Graph permission: the
    secretariat is told once, `told`), "failed" (retried after a while).
    """

    __tablename__ = "teams_reach"

    user_id: str = Field(primary_key=True, max_length=256)
    state: str = Field(max_length=16)
    attempts: int = 0
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    told: bool = False


def record_shown(engine, user_id: str, service_url: str, conversation_id: str, activity_id: str,  # noqa: ANN001
                 reopen: str, now: datetime, ttl: timedelta) -> None:
    """A message with details was posted: it becomes a stub at now + ttl."""
    with unit_of_work(engine) as session:
        session.add(TeamsShown(user_id=user_id, service_url=service_url, conversation_id=conversation_id,
                               activity_id=activity_id, reopen=reopen[:256], shown_at=now, stub_at=now + ttl))


def due_stubs(engine, now: datetime, limit: int = 50) -> list[TeamsShown]:  # noqa: ANN001
    with unit_of_work(engine) as session:
        rows = list(session.exec(select(TeamsShown).where(TeamsShown.done == False,  # noqa: E712
                                                          col(TeamsShown.stub_at) <= now)
                                 .order_by(col(TeamsShown.stub_at)).limit(limit)))
        for row in rows:
            session.expunge(row)
        return rows


def stubbed(engine, shown_id: int) -> None:  # noqa: ANN001
    with unit_of_work(engine) as session:
        row = session.get(TeamsShown, shown_id)
        if row is not None:
            row.done = True
            session.add(row)


def reach_mark(session: Session, user_id: str, state: str, now: datetime) -> TeamsReach:
    row = session.get(TeamsReach, user_id) or TeamsReach(user_id=user_id, state=state, at=now)
    row.state, row.at, row.attempts = state, now, row.attempts + 1
    session.add(row)
    return row


def reach_again(session: Session, user_ids: list[str], now: datetime) -> None:
    """`unit reach`: try these members again on the next delivery pass (a Graph permission may have been granted
    since); a member already told about is not told again."""
    for user_id in user_ids:
        row = session.get(TeamsReach, user_id) or TeamsReach(user_id=user_id, state="requested", at=now)
        row.state, row.at = "requested", now
        session.add(row)


def reach_states(session: Session, user_ids: list[str]) -> dict[str, str]:
    if not user_ids:
        return {}
    return {r.user_id: r.state for r in session.exec(select(TeamsReach).where(col(TeamsReach.user_id).in_(user_ids)))}
