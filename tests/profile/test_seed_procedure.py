"""The seed's family case walks the child procedure end to end on both shipped profiles: `denmark-generic`
as shipped, and `copenhagen` as shipped (its procedures are on, as the seed asks). Steps at
qualification with their owners and due mornings, the reminder DM on the due morning (not before), *Done*
on it ticks the step, the referral starts the steps anchored there, closing waits for the required steps
until they are ticked or forced."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from scheduler.jobs.followups import sweep
from storage.db import unit_of_work
from storage.models import Case, FollowUp, Member
from storage.profile.tables import CaseStep
from tests.commands.cmdkit import add_member, events, ok, outbox_messages, run, seed_admin
from tests.conftest import make_settings, make_svc

CPH = ZoneInfo("Europe/Copenhagen")
FAMILY = ('concern new severity=high track=child age=25+,15-17,0-14 source=social basis=rpl115 '
          'summary="Far og søn udtaler støtte til IS; datter uden skolegang"')


@dataclass(frozen=True)
class Unit:
    profile: str
    members: tuple[tuple[str, str, str], ...]  # user, role, org
    district: str  # what the intake adds (copenhagen asks for a district)
    responsible: list[str]  # the child procedure's steps, in order
    home_visit: str  # the org of step 2, the joint home visit
    refer_to: str
    required: list[int]


UNITS = {
    "denmark-generic": Unit("denmark-generic", (("U_SEC", "secretariat", "SEK"), ("U_VISIT", "member", "SSP"),
                                                ("U_SOC", "member", "SOC")), "",
                            ["secretariat", "SSP", "secretariat", "owner", "owner", "SOC", "owner"], "SSP", "SOC",
                            [1, 3, 4, 7]),
    "copenhagen": Unit("copenhagen", (("U_SEC", "secretariat", "BIF"), ("U_VISIT", "member", "VINK"),
                                      ("U_SOC", "member", "SOF")), " district=Nørrebro",
                       ["secretariat", "VINK", "secretariat", "owner", "owner", "owner", "SOF", "owner", "owner"],
                       "VINK", "SOF", [1, 3, 4, 9]),
}


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=CPH).astimezone(UTC)


@pytest.fixture(params=sorted(UNITS))
def unit(request, db_url, clock, tmp_path: Path):
    spec = UNITS[request.param]
    profile = spec.profile
    svc = make_svc(make_settings(db_url, unit_profile=profile), clock)
    seed_admin(svc)
    for user, role, org in spec.members:
        add_member(svc, user, role, org)
    yield svc, spec
    svc.engine.dispose()


def _steps(svc, ref: str) -> list[CaseStep]:
    with unit_of_work(svc.engine) as session:
        case = session.exec(select(Case).where(Case.ref == ref)).one()
        return list(session.exec(select(CaseStep).where(CaseStep.case_id == case.id).order_by(col(CaseStep.n))))


def _member_id(svc, user: str) -> int:
    with unit_of_work(svc.engine) as session:
        return session.exec(select(Member.id).where(Member.user_id == user)).one()


def test_the_seed_family_case_walks_the_child_procedure(unit):
    svc, spec = unit
    svc.clock.instant = local(2026, 11, 23, 10, 0)  # Monday
    reply = ok(svc, "U_SOC", FAMILY + spec.district)
    ref = "KE-" + reply.text.split("KE-")[1][:9]
    assert _steps(svc, ref) == []  # the checklist comes at qualification
    ok(svc, "U_SEC", f"case qualify {ref} level=pre_emptive")
    steps = _steps(svc, ref)
    assert [s.responsible for s in steps] == spec.responsible
    assert steps[0].due_at == local(2026, 11, 24, 8, 0)  # register checks: 1 working day after receipt, 08:00
    assert steps[1].due_at == local(2026, 11, 30, 8, 0)  # the joint home visit: 5 working days
    assert steps[1].assignee_id == _member_id(svc, "U_VISIT")  # the org's member
    assert steps[3].due_at == local(2026, 11, 26, 8, 0)  # referral: 3 days after receipt
    assert all(s.due_at is None for s in steps if s.anchor == "referred")
    assert [s.n for s in steps if s.required] == spec.required

    # the due morning: the secretariat's DM comes at 08:00, not before; Done on it ticks step 1
    sweep(svc, local(2026, 11, 24, 7, 59))
    before = len(outbox_messages(svc))
    sweep(svc, local(2026, 11, 24, 8, 0))
    dms = [(target, r) for kind, target, r in outbox_messages(svc)[before:] if kind == "user"]
    assert [target for target, _ in dms] == ["U_SEC"] and "Register checks" in dms[0][1].text
    done = next(b for b in dms[0][1].buttons if b.action_id == "followup.done")
    svc.clock.instant = local(2026, 11, 24, 8, 5)
    ok(svc, "U_SEC", done.command)
    assert _steps(svc, ref)[0].state == "done"

    # the referral starts the steps anchored at it, with the owner it names
    svc.clock.instant = local(2026, 11, 24, 14, 0)
    ok(svc, "U_SEC", f"case refer {ref} to={spec.refer_to} owner=<@U_SOC>")
    referred = [s for s in _steps(svc, ref) if s.anchor == "referred"]
    assert referred and all(s.due_at is not None for s in referred)
    assert all(s.assignee_id == _member_id(svc, "U_SOC") for s in referred if s.responsible == "owner")

    # closing waits for the required steps: ticking them, or forcing (recorded)
    blocked = run(svc, "U_SEC", f"case close {ref} reason=normal_system")
    missing = ", ".join(str(n) for n in spec.required[1:])
    assert not blocked.ok and missing in blocked.text and "force=yes" in blocked.text
    ok(svc, "U_SEC", f"case step {ref} 3 done")
    ok(svc, "U_SOC", f"case step {ref} 4 done")
    last = spec.required[-1]
    blocked = run(svc, "U_SEC", f"case close {ref} reason=normal_system")
    assert not blocked.ok and f"({last})" in blocked.text
    ok(svc, "U_SEC", f"case close {ref} reason=normal_system force=yes")
    assert ("steps_forced", f'{{"reason": "normal_system", "steps": [{last}]}}') in events(svc, ref)
    with unit_of_work(svc.engine) as session:
        live = session.exec(select(FollowUp).where(FollowUp.kind == "step", col(FollowUp.state).in_(
            ("pending", "sent", "snoozed")))).all()
    assert live == []  # no reminder outlives the case
