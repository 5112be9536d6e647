"""`case track KE-… track=… [switch=yes|no]`: a case with a checklist asks whether to switch procedure;
`switch=yes` replaces the unfinished procedure steps with the new track's (done, skipped and hand-added steps
kept), `switch=no` keeps the checklist; both recorded on the timeline and audited. Console here; Slack and
Teams in tests/slack/test_track_slack.py and tests/teams/test_track_teams.py."""

from __future__ import annotations

import json

import pytest
from sqlmodel import col, select

from storage.db import unit_of_work
from storage.models import Case, FollowUp
from storage.profile.tables import CaseStep
from tests.commands.cmdkit import add_member, audit_entries, events, ok, run, seed_admin
from tests.conftest import make_settings, make_svc

FAMILY = ('concern new severity=high track=child age=25+,15-17,0-14 source=social basis=rpl115 '
          'summary="Far og søn udtaler støtte til IS; datter uden skolegang"')


@pytest.fixture
def unit(db_url, clock):
    svc = make_svc(make_settings(db_url, unit_profile="denmark-generic"), clock)
    seed_admin(svc)
    for user, role, org in (("U_SEC", "secretariat", "SEK"), ("U_SSP", "member", "SSP"),
                            ("U_SOC", "member", "SOC"), ("U_JOB", "member", "JOB")):
        add_member(svc, user, role, org)
    yield svc
    svc.engine.dispose()


def _open(svc) -> str:
    return "KE-" + ok(svc, "U_SOC", FAMILY).text.split("KE-")[1][:9]


def _steps(svc, ref: str) -> list[CaseStep]:
    with unit_of_work(svc.engine) as session:
        case = session.exec(select(Case).where(Case.ref == ref)).one()
        return list(session.exec(select(CaseStep).where(CaseStep.case_id == case.id).order_by(col(CaseStep.n))))


def _track(svc, ref: str) -> str:
    with unit_of_work(svc.engine) as session:
        return session.exec(select(Case.track).where(Case.ref == ref)).one()


def test_switching_replaces_the_open_steps_and_keeps_the_finished_ones(unit):
    svc = unit
    ref = _open(svc)
    ok(svc, "U_SEC", f"case qualify {ref} level=pre_emptive")
    ok(svc, "U_SEC", f"case step {ref} 1 done")
    ok(svc, "U_SSP", f'case step {ref} 2 skip reason="Ikke relevant"')
    ok(svc, "U_SEC", f'case step add {ref} "Ring til skolen" due="2026-12-01 10:00"')
    before = _steps(svc, ref)
    assert len(before) == 8

    asked = ok(svc, "U_SEC", f"case track {ref} track=adult")
    assert "switch=yes" in asked.text and "5 open steps" in asked.text
    assert [b.command for b in asked.buttons] == [f"case track {ref} track=adult switch=yes",
                                                  f"case track {ref} track=adult switch=no"]
    assert _track(svc, ref) == "child" and len(_steps(svc, ref)) == 8  # nothing changed while it asks

    switched = ok(svc, "U_SEC", asked.buttons[0].command)
    assert "5 open steps removed, 3 new steps added" in switched.text
    after = _steps(svc, ref)
    assert _track(svc, ref) == "adult"
    assert [(s.n, s.state) for s in after[:3]] == [(1, "done"), (2, "skipped"), (8, "open")]  # kept, numbers too
    new = after[3:]
    assert [s.n for s in new] == [9, 10, 11]
    assert [s.responsible for s in new] == ["secretariat", "JOB", "owner"]
    assert new[0].due_at is not None and new[1].due_at is None  # received: due at once; referred: waits
    with unit_of_work(svc.engine) as session:
        live = session.exec(select(FollowUp.id).where(FollowUp.kind == "step",
                                                      col(FollowUp.state).in_(("pending", "sent", "snoozed")))).all()
    assert len(live) == 2  # the hand-added step's and the new register-check step's reminders; the old ones cancelled
    kind, data = events(svc, ref)[-1]
    assert kind == "track"
    assert json.loads(data) == {"from": "child", "to": "adult", "switch": True, "removed": [3, 4, 5, 6, 7],
                                "added": [9, 10, 11]}
    entries = [e for e in audit_entries(svc) if e.action == "case.track"]
    assert [e.result for e in entries] == ["asked", "ok"]
    shown = ok(svc, "U_SEC", f"case show {ref}")
    line = next(f.value for f in shown.fields if "Track changed" in f.value)
    assert line == "Track changed from child to adult. Checklist switched: 5 steps removed, 3 steps added."


def test_keeping_the_checklist_changes_only_the_track(unit):
    svc = unit
    ref = _open(svc)
    ok(svc, "U_SEC", f"case qualify {ref} level=pre_emptive")
    ok(svc, "U_SEC", f"case refer {ref} to=SOC owner=<@U_SOC>")
    kept = ok(svc, "U_SOC", f"case track {ref} track=crime switch=nej")  # the owner may; Danish yes/no too
    assert "checklist is kept" in kept.text
    assert _track(svc, ref) == "crime" and len(_steps(svc, ref)) == 7
    assert json.loads(events(svc, ref)[-1][1])["switch"] is False


def test_a_case_without_a_checklist_changes_track_at_once(unit):
    svc = unit
    ref = _open(svc)  # not yet qualified: no checklist
    changed = ok(svc, "U_SEC", f"case track {ref} track=adult_psych")
    assert "changed track" in changed.text and not changed.buttons
    assert _track(svc, ref) == "adult_psych"
    ok(svc, "U_SEC", f"case qualify {ref} level=pre_emptive")
    assert [s.responsible for s in _steps(svc, ref)] == ["secretariat", "PSYK", "owner"]  # the new track's


@pytest.mark.parametrize("user, text, words", [
    ("U_SSP", "case track {ref} track=adult", "Only the case owner or the secretariat"),
    ("U_SEC", "case track {ref} track=child", "already has the child track"),
    ("U_SEC", "case track {ref} track=elderly", "elderly"),
    ("U_SEC", "case track {ref} track=adult switch=maybe", "switch"),
])
def test_bad_input_changes_nothing(unit, user, text, words):
    svc = unit
    ref = _open(svc)
    ok(svc, "U_SEC", f"case qualify {ref} level=pre_emptive")
    reply = run(svc, user, text.format(ref=ref))
    assert not reply.ok and words in reply.text and "Traceback" not in reply.text
    assert _track(svc, ref) == "child" and len(_steps(svc, ref)) == 7


def test_typed_bare_the_track_command_opens_its_form_and_changes_nothing(unit):
    svc = unit
    ref = _open(svc)
    reply = run(svc, "U_SEC", f"case track {ref}")
    assert reply.form is not None and [f.name for f in reply.form.fields] == ["track", "switch"]
    assert _track(svc, ref) == "child"


def test_a_closed_case_keeps_its_track(unit):
    svc = unit
    ref = _open(svc)
    ok(svc, "U_SEC", f"case close {ref} reason=unfounded")
    reply = run(svc, "U_SEC", f"case track {ref} track=adult switch=yes")
    assert not reply.ok and "closed" in reply.text and _track(svc, ref) == "child"
