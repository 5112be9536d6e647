"""Work procedures as checklists: the seed's family case walks the child procedure on `denmark-generic`
(steps at qualification with owners and due mornings across DST, reminders through the sweep, *Done* ticks
the step, closing blocked until forced), and a new profile version leaves running cases on theirs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from commands.markup import mention
from scheduler.jobs.followups import sweep
from storage.db import unit_of_work
from storage.models import Case, FollowUp, Member
from storage.profile import shipped_text
from storage.profile.tables import CaseStep
from tests.commands.cmdkit import ADMIN, add_member, events, ok, outbox_messages, run, seed_admin
from tests.conftest import make_settings, make_svc

CPH = ZoneInfo("Europe/Copenhagen")
FAMILY = ('concern new severity=high track=child age=25+,15-17,0-14 source=social basis=rpl115 '
          'summary="Far og søn udtaler støtte til IS; datter uden skolegang"')


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=CPH).astimezone(UTC)


@pytest.fixture
def unit(db_url, clock):
    svc = make_svc(make_settings(db_url, unit_profile="denmark-generic"), clock)
    seed_admin(svc)
    for user, role, org in (("U_SEC", "secretariat", "SEK"), ("U_SSP", "member", "SSP"),
                            ("U_INFO", "member", "INFOHUS"), ("U_SOC", "member", "SOC")):
        add_member(svc, user, role, org)
    yield svc
    svc.engine.dispose()


def _steps(svc, ref: str) -> list[CaseStep]:
    with unit_of_work(svc.engine) as session:
        case = session.exec(select(Case).where(Case.ref == ref)).one()
        return list(session.exec(select(CaseStep).where(CaseStep.case_id == case.id).order_by(col(CaseStep.n))))


def _member_id(svc, user: str) -> int:
    with unit_of_work(svc.engine) as session:
        return session.exec(select(Member.id).where(Member.user_id == user)).one()


def _open_family(svc, when: datetime) -> str:
    svc.clock.instant = when
    reply = ok(svc, "U_SOC", FAMILY)
    return "KE-" + reply.text.split("KE-")[1][:9]


def test_the_family_case_walks_the_child_procedure(unit):
    svc = unit
    ref = _open_family(svc, local(2026, 11, 23, 10, 0))  # Monday
    assert _steps(svc, ref) == []
    ok(svc, "U_SEC", f"case qualify {ref} level=pre_emptive")
    steps = _steps(svc, ref)
    assert [s.responsible for s in steps] == ["secretariat", "SSP", "secretariat", "owner", "owner", "SOC", "owner"]
    assert all(s.profile_version == 1 for s in steps)
    assert steps[0].due_at == local(2026, 11, 24, 8, 0)  # 1 working day after receipt, in the morning
    assert steps[1].due_at == local(2026, 11, 30, 8, 0)  # 5 working days after qualification
    assert steps[1].assignee_id == _member_id(svc, "U_SSP")
    assert steps[3].due_at == local(2026, 11, 26, 8, 0)  # 3 days after receipt
    assert [s.due_at for s in steps[4:]] == [None, None, None]  # waiting for the referral
    listing = ok(svc, "U_SSP", f"case steps {ref}")
    assert "Joint home visit with SSP and the infohouse" in listing.text and mention("U_SSP") in listing.text
    shown = ok(svc, "U_SSP", f"case show {ref}")
    assert any(f.value == "0 of 7 steps finished, 0 late" for f in shown.fields)
    from commands.guide.home import home
    mine = next(f for f in home(svc, "U_SSP").fields if f.label == "My steps")
    assert f"{ref} · 2. Joint home visit" in mine.value

    svc.clock.instant = local(2026, 11, 23, 14, 0)
    ok(svc, "U_SEC", f"case refer {ref} to=SOC owner=<@U_SOC>")
    steps = _steps(svc, ref)
    assert steps[5].due_at == local(2026, 11, 30, 8, 0) and steps[5].assignee_id == _member_id(svc, "U_SOC")
    assert steps[4].assignee_id == _member_id(svc, "U_SOC")  # the owner, known from the referral

    # the due morning: the secretariat is reminded of the register checks, at 08:00, not before
    sweep(svc, local(2026, 11, 24, 7, 0))
    before = len(outbox_messages(svc))
    sweep(svc, local(2026, 11, 24, 8, 0))
    dms = [(target, r) for kind, target, r in outbox_messages(svc)[before:] if kind == "user"]
    assert [target for target, _ in dms] == ["U_SEC"]
    reply = dms[0][1]
    assert "Register checks by SSP, infohouse and social services" in reply.text
    done = next(b for b in reply.buttons if b.action_id == "followup.done")
    ok(svc, "U_SEC", done.command)  # what the Slack / Teams Done button runs
    assert _steps(svc, ref)[0].state == "done"

    skipped = run(svc, "U_SSP", f"case step {ref} 2 skip")
    assert not skipped.ok and "reason" in skipped.text
    ok(svc, "U_SSP", f'case step {ref} 2 skip reason="Familien flyttet til anden kommune"')
    again = run(svc, "U_SSP", f"case step {ref} 2 done")  # a finished step is named in the reader's words
    assert not again.ok and "is already skipped." in again.text
    ok(svc, "U_SEC", f"case step {ref} 3 done")
    ok(svc, "U_SEC", f"case step {ref} 7 assign=<@U_SSP>")
    assert _steps(svc, ref)[6].assignee_id == _member_id(svc, "U_SSP")
    added = ok(svc, "U_SOC", f'case step add {ref} "Møde med skolelederen" due="2026-12-02 10:00"')
    assert "Step 8" in added.text

    blocked = run(svc, "U_SEC", f"case close {ref} reason=normal_system")
    assert not blocked.ok and "4, 7" in blocked.text and "force=yes" in blocked.text
    ok(svc, "U_SEC", f"case close {ref} reason=normal_system force=yes")
    assert ("steps_forced", '{"reason": "normal_system", "steps": [4, 7]}') in events(svc, ref)
    with unit_of_work(svc.engine) as session:
        live = session.exec(select(FollowUp).where(FollowUp.kind == "step", col(FollowUp.state).in_(
            ("pending", "sent", "snoozed")))).all()
    assert live == []


def test_due_mornings_keep_local_time_across_the_change_to_winter_time(unit):
    ref = _open_family(unit, local(2026, 10, 23, 10, 0))  # Friday; summer time ends Sunday 25 October
    ok(unit, "U_SEC", f"case qualify {ref}")
    steps = _steps(unit, ref)
    assert steps[0].due_at == local(2026, 10, 26, 8, 0) == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)
    assert steps[1].due_at == local(2026, 10, 30, 8, 0)


def test_a_new_profile_version_leaves_running_cases_on_theirs(unit, tmp_path):
    running = _open_family(unit, local(2026, 11, 23, 10, 0))
    ok(unit, "U_SEC", f"case qualify {running}")
    school = '{title: {da: "Inddrag skolen", en: "Involve the school"}, responsible: SOC, anchor: referred, due: 1w}'
    text = shipped_text("denmark-generic").replace(f"    - {school}\n", "")
    path = tmp_path / "v2.yaml"
    path.write_text(text, encoding="utf-8")
    assert "version 2" in ok(unit, ADMIN, f"unit profile import path={path}").text
    fresh = _open_family(unit, local(2026, 11, 24, 10, 0))
    ok(unit, "U_SEC", f"case qualify {fresh}")
    old_steps, new_steps = _steps(unit, running), _steps(unit, fresh)
    assert len(old_steps) == 7 and {s.profile_version for s in old_steps} == {1}
    assert len(new_steps) == 6 and {s.profile_version for s in new_steps} == {2}
    assert "procedure version 1" in (ok(unit, "U_SEC", f"case steps {running}").title or "")


def test_a_concern_without_substance_closes_without_its_procedure(unit):
    ref = _open_family(unit, local(2026, 11, 23, 10, 0))
    ok(unit, "U_SEC", f"case qualify {ref}")
    ok(unit, "U_SEC", f"case close {ref} reason=unfounded")


def test_copenhagen_ships_its_procedures_switched_on_and_a_unit_may_turn_them_off(svc, tmp_path):
    """The seed asks for arbejdsgangsbeskrivelser "umiddelbart": copenhagen's cases get their checklist, and
    closing waits for the required steps. A unit that does not want them imports the flag switched off."""
    seed_admin(svc)
    add_member(svc, "U_VINK", "member", "VINK")
    ref = "KE-" + ok(svc, ADMIN, FAMILY + " district=Nørrebro").text.split("KE-")[1][:9]
    ok(svc, ADMIN, f"case qualify {ref} level=preventive")
    steps = _steps(svc, ref)
    assert len(steps) == 9 and steps[1].responsible == "VINK" and steps[1].assignee_id == _member_id(svc, "U_VINK")
    assert {s.profile_version for s in steps} == {1}
    ok(svc, ADMIN, f"case refer {ref} to=SOF")
    blocked = run(svc, ADMIN, f"case close {ref} reason=normal_system")
    assert not blocked.ok and "1, 3, 4, 9" in blocked.text
    for n in (1, 3, 4, 9):
        ok(svc, ADMIN, f"case step {ref} {n} done")
    ok(svc, ADMIN, f"case close {ref} reason=normal_system")
    path = tmp_path / "off.yaml"
    path.write_text(shipped_text("copenhagen").replace("procedures_active: true", "procedures_active: false"),
                    encoding="utf-8")
    ok(svc, ADMIN, f"unit profile import path={path}")
    after = "KE-" + ok(svc, ADMIN, FAMILY + " district=Nørrebro").text.split("KE-")[1][:9]
    ok(svc, ADMIN, f"case qualify {after} level=preventive")
    assert _steps(svc, after) == []


def test_the_test_profile_without_procedures_is_copenhagen_but_for_that_one_line():
    from tests.conftest import PROCEDURES_OFF

    text = Path(PROCEDURES_OFF).read_text(encoding="utf-8")
    body = "".join(line for line in text.splitlines(keepends=True)[3:])  # after its own three comment lines
    assert body == shipped_text("copenhagen").replace("procedures_active: true\n", "procedures_active: false\n")
