"""ADMIN_USERS: the first command of a listed user makes them admin — once, even when two arrive together."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlmodel import select

from commands.context import Services
from commands.reply import Invocation
from commands.router import dispatch
from storage.db import unit_of_work
from storage.models import AuditEntry, Member
from tests.conftest import make_settings


def test_simultaneous_first_commands_of_an_admin_user_create_one_member(svc, db_url):
    admins = Services(settings=make_settings(db_url, admin_users="U_BOSS"), engine=svc.engine, keys=svc.keys,
                      clock=svc.clock)
    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(pool.map(lambda _: dispatch(admins, Invocation("U_BOSS", "unit members", platform="slack")),
                                range(6)))
    assert all(r.ok for r in replies), [r.text for r in replies]
    with unit_of_work(svc.engine) as session:
        members = list(session.exec(select(Member).where(Member.user_id == "U_BOSS")))
        created = [e for e in session.exec(select(AuditEntry)) if e.action == "unit.add"]
    assert len(members) == 1 and members[0].role == "admin" and members[0].platform == "slack"
    assert len(created) == 1


def test_the_consoles_first_admin_is_added_by_the_same_use_case_with_its_audit_entry(svc, console):
    out = console.run("anna", bootstrap=True)
    assert "anna" in out
    with unit_of_work(svc.engine) as session:
        (member,) = session.exec(select(Member))
        created = [e for e in session.exec(select(AuditEntry)) if e.action == "unit.add"]
    assert (member.user_id, member.role, member.platform) == ("anna", "admin", "console")
    assert len(created) == 1 and created[0].actor == "anna" and '"via": "console"' in created[0].detail
    console.run("anna", bootstrap=True)  # a second start adds nobody
    with unit_of_work(svc.engine) as session:
        assert len(session.exec(select(Member)).all()) == 1
