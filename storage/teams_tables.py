"""Two small Teams tables (migration 0015): messages that showed case details and become a stub after
TEAMS_DETAILS_TTL, and what the bot knows about installing itself for a member through Microsoft Graph.

Neither holds message contents: ids, times and states only.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.models import _ts


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
    shown_at: datetime = Field(sa_column=_ts())
    stub_at: datetime = Field(sa_column=_ts(index=True))
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
    at: datetime = Field(sa_column=_ts())
    told: bool = False
