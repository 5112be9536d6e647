"""Issue 26: the access matrix, generated from the command registry — every command, every button action, every
form and the home view × every role with a restricted view × a case that role may not see. Each must answer
with a refusal (or, for a command that does not take the case, an answer without its data) and change nothing.

A new command is covered without anyone remembering: it runs with the hidden case's reference as its argument
(`DEFAULT_ARGS`); give it better arguments in `ARGS` when that is not how it is typed. A new button action
must be named in `BUTTONS` (the test fails until it is), a new form gets generic values (`FORM_VALUES`).
"""

from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path

import pytest
from cmdkit import ADMIN, add_member, new_case, ok, outbox_messages, pseudonyms, reply_text, run, seed_admin, submit
from sqlmodel import col, select

from commands import registry
from commands.guide.home import home
from commands.markup import plain
from commands.router import TABLE
from storage.db import unit_of_work
from storage.models import Case, CaseEvent, Engagement, FollowUp, Member, Offer, Subject
from storage.profile.tables import CaseStep
from storage.pseudonym import format_pseudonym

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = "Hemmelig sammenfatning om familien"
NOTE = "Hemmelig note fra skolen"
STEP = "Hemmeligt trin hos politiet"
FOLLOWUP = "Hemmelig opfølgning ring til far"
LOG = "Hemmelig mentorsamtale i klubben"

# How each command is typed against the hidden case; {case}, {pseudonym}, {followup}, {meeting}, {series},
# {me} (the caller's id) are filled in. A command missing here runs as `<command> {case}`.
DEFAULT_ARGS = ("{case}",)
ARGS: dict[str, tuple[str, ...]] = {
    "case assign": ("{case} subject={pseudonym} kind=mentor mentor=<@{me}>",),
    "case checked": ("{case} org=SSP found=yes",),
    "case close": ("{case} reason=unfounded force=yes",),
    "case hold": ('{case} reason="retssag"',),
    "case list": ("all", "mine", "open"),
    "case note": ('{case} "ny note"',),
    "case offer": ("{case} subject={pseudonym} kind=mentor",),
    "case qualify": ("{case} level=preventive",),
    "case refer": ("{case} to=SOF owner=<@{me}>",),
    "case respond": ("{case} subject={pseudonym} kind=mentor accepted consent=yes",),
    "case step": ("{case} 1 done", "{case} 1 assign=<@{me}>"),
    "case step add": ('{case} "nyt trin" due="2027-01-05 10:00"',),
    "case subject add": ("{case} age=15-17",),
    "case track": ("{case} track=adult switch=yes",),
    "followup add": ('{case} due="2027-01-05 10:00" "ny opfølgning"',),
    "followup done": ("F-{followup}", "F-{followup} outcome=yes"),
    "followup list": ("all", "mine"),
    "followup snooze": ("F-{followup} 1w",),
    "help": ("", "case show"),
    "mentor end": ("{case} subject={pseudonym} result=completed",),
    "mentor log": ('{case} subject={pseudonym} "en samtale"',),
    "minutes": ('{case} "en beslutning"',),
    "agenda": ("{meeting}", "next", "{meeting} format=md"),
    "agenda add": ("{meeting} {case}",),
    "agenda remove": ("{meeting} {case}",),
    "agenda move": ("{meeting} {case} position=1",),
    "meeting adhoc": ('when="2027-01-05 10:00" duration=60m topic="x" cases={case}',),
    "meeting invite": ("{meeting} <@{me}>",),
    "meeting move": ('{meeting} when="2027-01-06 10:00"',),
    "meeting series edit": ('{series} name="x"',),
    "meeting series end": ("{series}",),
    "unit audit": ("{case}",),
    "unit add": ("<@{me}> role=admin org=BIF",),
    "unit remove": ("<@U_SSP>",),
    "report annual": ("year=2026 format=csv",),
}

# Every button action the code makes (found by reading the source), and the command its click runs.
BUTTONS: dict[str, str] = {
    "case.show": "case show {case}",
    "case.qualify": "case qualify {case}",
    "case.refer": "case refer {case} to=SOF",
    "case.track_switch": "case track {case} track=adult switch=yes",
    "case.track_keep": "case track {case} track=adult switch=no",
    "concern.form": "concern",
    "followup.done": "followup done F-{followup}",
    "followup.snooze_day": "followup snooze F-{followup} 1d",
    "followup.snooze_week": "followup snooze F-{followup} 1w",
    "agenda.publish": "agenda publish {meeting}",
    "agenda.hold": "agenda hold {meeting}",
    "case.offer": "case offer {case} subject={pseudonym} kind=mentor",
    "followup.outcome_yes": "followup done F-{followup} outcome=yes",
    "followup.outcome_no": "followup done F-{followup} outcome=no",
    "meeting.pick": "agenda {meeting}",
    "unit.handover": "unit remove <@U_SSP> to=each",
    "concern.advice": "concern advice",
    "run.decide": "minutes {case} {meeting}",
    "run.postpone": "agenda postpone {meeting} {case}",
    "run.unchanged": "agenda unchanged {meeting} {case}",
    "run.attendance": "meeting attendance {meeting}",
    "run.view": "meeting run {meeting}",
    "run.close": "meeting close {meeting}",
}

FORM_VALUES: dict[str, str] = {
    "identifier": "010190-1234", "purpose": "Tjek", "age": "15-17", "severity": "high", "track": "child",
    "source": "school", "district": "Nørrebro", "basis": "rpl115", "summary": "x", "subject1_age": "15-17",
    "subject1_identifier": "010190-1234", "confirm": "yes", "profile": "", "path": "",
}

# The roles whose view is restricted, and callers with no view at all.
CALLERS = {"mentor": "U_MENTOR", "adhoc": "U_BUF", "removed": "U_GONE", "stranger": "U_STRANGER"}


@pytest.fixture(scope="module")
def _commands() -> list[registry.Command]:
    return sorted(TABLE.commands.values(), key=lambda c: c.path)


@pytest.fixture
def hidden(svc):
    """KE-2026-0001 holds every kind of case data and is visible to staff only. U_MENTOR mentors
    KE-2026-0002, U_BUF owns KE-2026-0003: both are real users with work of their own."""
    seed_admin(svc)
    for user, role, org in [("U_SEC", "secretariat", "BIF"), ("U_SSP", "member", "SSP"),
                            ("U_MENTOR", "mentor", "EKP"), ("U_MENTOR2", "mentor", "EKP"),
                            ("U_BUF", "adhoc", "BUF"), ("U_GONE", "member", "SSP")]:
        add_member(svc, user, role, org)
    ref = new_case(svc, text="concern new severity=high track=child age=15-17,25+ source=school "
                             f'district=Valby basis=rpl115 summary="{SUMMARY}"')
    son, father = pseudonyms(svc, ref)
    ok(svc, ADMIN, f"case qualify {ref} level=pre_emptive")
    ok(svc, ADMIN, f"case refer {ref} to=SOF owner=<@U_SSP>")
    ok(svc, ADMIN, f"case offer {ref} subject={son} kind=mentor")
    ok(svc, ADMIN, f"case respond {ref} subject={son} kind=mentor accepted")
    ok(svc, ADMIN, f"case assign {ref} subject={son} kind=mentor mentor=<@U_MENTOR2>")
    ok(svc, "U_MENTOR2", f'mentor log {ref} subject={son} "{LOG}"')
    ok(svc, ADMIN, f'case note {ref} "{NOTE}"')
    ok(svc, ADMIN, f'case step add {ref} "{STEP}" due="2026-12-01 10:00"')
    ok(svc, ADMIN, f'followup add {ref} due="2026-12-02 10:00" "{FOLLOWUP}"')
    ok(svc, ADMIN, 'meeting series add name="Koordinering" rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH" time=09:00 '
                   "duration=90m")
    ok(svc, ADMIN, f"agenda add M-2026-001 {ref}")

    mine = new_case(svc)
    (sub,) = pseudonyms(svc, mine)
    ok(svc, ADMIN, f"case qualify {mine} level=preventive")
    ok(svc, ADMIN, f"case refer {mine} to=SOF")
    ok(svc, ADMIN, f"case offer {mine} subject={sub} kind=mentor")
    ok(svc, ADMIN, f"case respond {mine} subject={sub} kind=mentor accepted")
    ok(svc, ADMIN, f"case assign {mine} subject={sub} kind=mentor mentor=<@U_MENTOR>")
    owned = new_case(svc)
    ok(svc, ADMIN, f"case qualify {owned} level=preventive")
    ok(svc, ADMIN, f"case refer {owned} to=SOF owner=<@U_BUF>")
    ok(svc, ADMIN, "unit remove <@U_GONE>")

    with unit_of_work(svc.engine) as session:
        case_id = session.exec(select(Case.id).where(Case.ref == ref)).one()
        followup = session.exec(select(FollowUp.id).where(FollowUp.case_id == case_id, FollowUp.kind == "custom")).one()
    svc.hidden = {"case": ref, "pseudonym": format_pseudonym(son), "followup": str(followup),
                  "meeting": "M-2026-001", "series": "S-1"}
    svc.secrets = [SUMMARY, NOTE, STEP, FOLLOWUP, LOG, son, father, format_pseudonym(son), format_pseudonym(father)]
    return svc


def snapshot(svc, ref: str) -> str:
    """Everything stored about the hidden case, as one fingerprint."""
    with unit_of_work(svc.engine) as session:
        case = session.exec(select(Case).where(Case.ref == ref)).one()
        rows: list[object] = [case.model_dump(exclude={"updated_at"})]
        for model in (CaseEvent, Subject, Offer, Engagement, FollowUp, CaseStep):
            rows += [r.model_dump() for r in session.exec(select(model).where(model.case_id == case.id)
                                                          .order_by(col(model.id)))]
    return hashlib.sha256(json.dumps(rows, default=str, sort_keys=True).encode()).hexdigest()


def leaks(svc, text: str) -> list[str]:
    return [s for s in svc.secrets if s in text]


def sent_to(svc, user: str) -> str:
    return "\n".join(reply_text(r) for kind, target, r in outbox_messages(svc) if target == user)


def fill(template: str, svc, me: str) -> str:
    return template.format(me=me, **svc.hidden)


def _typed(cmd: registry.Command) -> list[str]:
    return [(cmd.name + " " + a).strip() for a in ARGS.get(cmd.name, DEFAULT_ARGS)]


def test_the_matrix_covers_every_command(_commands):
    assert len(_commands) > 50
    assert set(ARGS) <= {c.name for c in _commands}, "ARGS names a command that no longer exists"


@pytest.mark.parametrize("caller", list(CALLERS))
def test_every_command_refuses_the_hidden_case(hidden, _commands, caller):
    user = CALLERS[caller]
    ref = hidden.hidden["case"]
    failures = []
    for cmd in _commands:
        for template in _typed(cmd):
            text = fill(template, hidden, user)
            before, mail = snapshot(hidden, ref), sent_to(hidden, user)
            reply = run(hidden, user, text)
            shown = plain(reply_text(reply)) + "".join(a.data.decode("utf-8", "replace") for a in reply.attachments)
            names_hidden = any(f"{{{k}}}" in template for k in ("case", "pseudonym", "followup"))
            if (cmd.case_arg or names_hidden) and reply.ok:
                failures.append(f"{text!r} answered ok")
            if leaks(hidden, shown):
                failures.append(f"{text!r} showed {leaks(hidden, shown)}")
            if snapshot(hidden, ref) != before:
                failures.append(f"{text!r} changed the hidden case")
            if leaks(hidden, sent_to(hidden, user)[len(mail):]):
                failures.append(f"{text!r} sent hidden data to {user}")
    assert failures == []


def _button_actions() -> set[str]:
    """Every Button(...)'s action id in commands/ and scheduler/ (its second argument or action_id=)."""
    found: set[str] = set()
    for folder in ("commands", "scheduler"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Button":
                    args = [*node.args[1:2], *(k.value for k in node.keywords if k.arg == "action_id")]
                    found |= {a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    return found


def test_every_button_action_is_in_the_matrix():
    assert _button_actions() and _button_actions() <= set(BUTTONS), \
        f"name the command of these buttons in BUTTONS: {sorted(_button_actions() - set(BUTTONS))}"


@pytest.mark.parametrize("caller", ["mentor", "adhoc"])
def test_every_button_refuses_the_hidden_case(hidden, caller):
    user = CALLERS[caller]
    for action, template in sorted(BUTTONS.items()):
        before = snapshot(hidden, hidden.hidden["case"])
        reply = run(hidden, user, fill(template, hidden, user), request_id=f"click-{action}-{caller}")
        assert not leaks(hidden, plain(reply_text(reply))), action
        assert snapshot(hidden, hidden.hidden["case"]) == before, action
        if "{case}" in template or "{followup}" in template:
            assert not reply.ok, action


@pytest.mark.parametrize("caller", list(CALLERS))
def test_every_form_refuses_the_hidden_case(hidden, caller):
    user = CALLERS[caller]
    for form_id in sorted(TABLE.forms):
        before = snapshot(hidden, hidden.hidden["case"])
        result = submit(hidden, user, form_id, dict(FORM_VALUES), {"case": hidden.hidden["case"]})
        text = plain(reply_text(result.reply)) if result.reply else json.dumps(result.errors)
        assert result.reply is None or not result.reply.ok, form_id
        assert not leaks(hidden, text), form_id
        assert snapshot(hidden, hidden.hidden["case"]) == before, form_id


@pytest.mark.parametrize("caller", list(CALLERS))
def test_the_home_view_shows_nothing_of_the_hidden_case(hidden, caller):
    _give_everything_to(hidden, CALLERS[caller])
    page = home(hidden, CALLERS[caller])
    shown = plain(reply_text(page))
    assert not leaks(hidden, shown) and hidden.hidden["case"] not in shown


def _give_everything_to(svc, user: str) -> None:
    """The worst case for a read path: the hidden case's step and follow-ups assigned to the caller anyway
    (an old assignment, a path that forgot the rule)."""
    with unit_of_work(svc.engine) as session:
        member = session.exec(select(Member).where(Member.user_id == user)).first()
        if member is None:
            return
        case_id = session.exec(select(Case.id).where(Case.ref == svc.hidden["case"])).one()
        for model in (CaseStep, FollowUp):
            for row in session.exec(select(model).where(model.case_id == case_id)):
                row.assignee_id = member.id
                session.add(row)


@pytest.mark.parametrize("caller", ["mentor", "adhoc"])
def test_work_wrongly_assigned_still_opens_no_door(hidden, _commands, caller):
    """Even with the hidden case's step and follow-ups assigned to the caller, every command refuses."""
    _give_everything_to(hidden, CALLERS[caller])
    test_every_command_refuses_the_hidden_case(hidden, _commands, caller)
