"""Shared helpers for scheduler tests: members, commands, and reading the outbox back."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from commands.reply import Invocation, Reply
from commands.router import dispatch
from storage import outbox
from storage.db import unit_of_work
from storage.models import Member, OutboxMessage

MEMBERS = (("ADMIN", "admin", "BIF"), ("SEC", "secretariat", "BIF"), ("OWNER", "member", "SOF"),
           ("MENTOR", "mentor", "OTHER"))


def seed_members(svc) -> None:
    with unit_of_work(svc.engine) as session:
        for user_id, role, org in MEMBERS:
            session.add(Member(user_id=user_id, platform="console", role=role, org=org, created_at=svc.clock.now()))


def run(svc, text: str, user: str = "ADMIN") -> Reply:
    reply = dispatch(svc, Invocation(user, text))
    assert reply.ok, reply.text
    return reply


def set_now(svc, instant: datetime) -> None:
    svc.clock.instant = instant


def sent(svc, after_id: int = 0) -> list[tuple[str, str, str]]:
    """(target_kind, target, text) of every outbox row after `after_id`."""
    with unit_of_work(svc.engine) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.id > after_id).order_by(col(OutboxMessage.id)))
        return [(r.target_kind, r.target, Reply.from_json(outbox.payload(session, svc.vault, r)).text) for r in rows]


def last_outbox_id(svc) -> int:
    with unit_of_work(svc.engine) as session:
        return session.exec(select(OutboxMessage.id).order_by(col(OutboxMessage.id).desc())).first() or 0


CONCERN = ("concern new severity={severity} track=child age={age} source=school district=Valby basis=rpl115 "
           'summary="Udtaler støtte til voldelig ekstremisme" received="{received}"')
