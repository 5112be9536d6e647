"""Roles and need-to-know (SPEC.md §1, §6): refusals are polite, audited, and reveal nothing."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from cmdkit import (
    ADMIN,
    add_member,
    audit_entries,
    confirmed,
    new_case,
    ok,
    outbox_messages,
    pseudonyms,
    reply_text,
    row_counts,
    run,
    seed_admin,
    submit,
)
from sqlalchemy import text
from sqlmodel import select

from commands.markup import mention
from commands.reply import Invocation
from commands.router import dispatch
from storage.db import unit_of_work
from storage.models import AuditEntry, Member

SUMMARY = "Udtaler støtte til IS"


@pytest.fixture
def unit(svc):
    """Two cases; KE-2026-0001 has a mentor engagement for its second subject assigned to U_MENTOR."""
    seed_admin(svc)
    for user, role, org in [("U_SEC", "secretariat", "BIF"), ("U_SSP", "member", "SSP"),
                            ("U_MENTOR", "mentor", "EKP"), ("U_MENTOR2", "mentor", "EKP"),
                            ("U_BUF", "adhoc", "BUF")]:
        add_member(svc, user, role, org)
    ref = new_case(svc, text="concern new severity=high track=child age=25+,15-17 source=social "
                             f'district=Valby basis=rpl115 summary="{SUMMARY}"')
    father, son = pseudonyms(svc, ref)
    ok(svc, ADMIN, f"case qualify {ref} level=pre_emptive")
    ok(svc, ADMIN, f"case refer {ref} to=SOF owner=<@U_SSP>")
    ok(svc, ADMIN, f"case offer {ref} subject={son} kind=mentor")
    ok(svc, ADMIN, f"case respond {ref} subject={son} kind=mentor accepted")
    ok(svc, ADMIN, f"case assign {ref} subject={son} kind=mentor mentor=<@U_MENTOR>")
    ok(svc, ADMIN, f"case offer {ref} subject={father} kind=parent_coach")
    ok(svc, ADMIN, f"case respond {ref} subject={father} kind=parent_coach accepted consent=yes")
    ok(svc, ADMIN, f"case assign {ref} subject={father} kind=parent_coach mentor=<@U_MENTOR2>")
    new_case(svc)  # KE-2026-0002: nobody's
    svc.father, svc.son = father, son
    return svc


def refusals(svc, actor: str) -> list[AuditEntry]:
    return [e for e in audit_entries(svc) if e.actor == actor and e.result == "refused"]


# --- unknown and removed users ------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["case list", "help", "case show KE-2026-0001", "concern",
                                     "unit add <@U_EVIL> role=admin org=BIF"])
def test_unknown_user_is_refused_politely_and_audited(unit, command):
    before = row_counts(unit)
    reply = run(unit, "U_STRANGER", command)
    assert not reply.ok and reply.private
    assert "not a member of the coordination unit" in reply.text
    assert "KE-2026" not in reply.text
    entries = refusals(unit, "U_STRANGER")
    assert len(entries) == 1 and entries[0].action == "access.denied"
    assert json.loads(entries[0].detail) == {"reason": "unknown_user"}
    after = row_counts(unit)
    assert after["auditentry"] == before["auditentry"] + 1
    assert {k: v for k, v in after.items() if k != "auditentry"} == \
        {k: v for k, v in before.items() if k != "auditentry"}


def test_unknown_user_cannot_submit_a_form(unit):
    result = submit(unit, "U_STRANGER", "concern.lookup", {"identifier": "010203-1234", "purpose": "tjek"})
    assert result.reply is not None and not result.reply.ok
    assert refusals(unit, "U_STRANGER")


def test_removed_member_is_refused(unit):
    confirmed(unit, ADMIN, "unit remove <@U_SSP>")  # she owns an open case: handed to the secretariat first
    assert "not a member" in run(unit, "U_SSP", "case list").text
    assert refusals(unit, "U_SSP")


def test_admin_users_from_settings_become_admin_on_first_use(svc):
    settings = svc.settings.model_copy(update={"admin_users": ("U_BOSS",)})
    boss = replace(svc, settings=settings)
    ok(boss, "U_BOSS", "unit members")
    with unit_of_work(svc.engine) as session:
        member = session.exec(select(Member).where(Member.user_id == "U_BOSS")).one()
    assert member.role == "admin"


# --- mentors ------------------------------------------------------------------------------------------


def test_mentor_cannot_show_a_case_not_assigned_and_the_refusal_is_audited(unit):
    reply = run(unit, "U_MENTOR", "case show KE-2026-0002")
    assert not reply.ok and reply.private
    assert "You have no access to KE-2026-0002" in reply.text
    assert SUMMARY not in reply_text(reply)
    entries = refusals(unit, "U_MENTOR")
    assert [(e.action, e.case_ref, e.result) for e in entries] == [("access.denied", "KE-2026-0002", "refused")]


def test_mentor_gets_the_same_answer_for_a_case_that_does_not_exist(unit):
    missing = run(unit, "U_MENTOR", "case show KE-2026-0404")
    hidden = run(unit, "U_MENTOR", "case show KE-2026-0002")
    assert missing.text.replace("0404", "XXXX") == hidden.text.replace("0002", "XXXX")
    assert len(refusals(unit, "U_MENTOR")) == 2


def test_mentor_sees_only_a_restricted_view_of_an_assigned_case(unit):
    ok(unit, "U_MENTOR", f'mentor log KE-2026-0001 subject={unit.son} "Første møde, god kontakt"')
    ok(unit, "U_MENTOR2", f'mentor log KE-2026-0001 subject={unit.father} "Forældrecoach: heftig diskussion"')
    reply = ok(unit, "U_MENTOR", "case show KE-2026-0001")
    shown = reply_text(reply)
    assert SUMMARY not in shown  # no summary
    assert f"{unit.son[:4]}-{unit.son[4:]}" in shown  # their own subject, by pseudonym
    assert unit.father[:4] not in shown  # not the other subject
    assert "Første møde, god kontakt" in shown  # their own log
    assert "heftig diskussion" not in shown  # not the parent coach's log
    assert mention("U_SSP") not in shown and "<@U_SSP>" not in shown and "SOF" not in shown and "rpl115" not in shown
    views = [e for e in audit_entries(unit) if e.actor == "U_MENTOR" and e.action == "case.view"]
    assert len(views) == 1 and json.loads(views[0].detail) == {"view": "mentor"}


def test_mentor_lists_only_assigned_cases(unit):
    listing = ok(unit, "U_MENTOR", "case list all").text
    assert "KE-2026-0001" in listing and "KE-2026-0002" not in listing
    assert "KE-2026-0001" in ok(unit, "U_MENTOR", "case list mine").text


@pytest.mark.parametrize("command", [
    'case note KE-2026-0001 "mentor note"', "case close KE-2026-0001 reason=other",
    "concern new severity=high track=child age=0-14 source=club district=Valby basis=rpl115 summary=x",
    "unit members", "concern lookup", "case offer KE-2026-0001 subject=ZZZZ-ZZZZ kind=mentor",
])
def test_mentor_cannot_use_staff_commands(unit, command):
    before = row_counts(unit)
    reply = run(unit, "U_MENTOR", command)
    assert not reply.ok and "Your role (mentor)" in reply.text
    assert refusals(unit, "U_MENTOR")
    assert row_counts(unit)["caseevent"] == before["caseevent"]


def test_mentor_cannot_log_for_a_subject_assigned_to_someone_else(unit):
    before = row_counts(unit)
    reply = run(unit, "U_MENTOR", f'mentor log KE-2026-0001 subject={unit.father} "forsøg"')
    assert not reply.ok and "not assigned to an engagement in KE-2026-0001" in reply.text
    assert row_counts(unit)["mentorsession"] == before["mentorsession"]
    assert [(e.case_ref, json.loads(e.detail)) for e in refusals(unit, "U_MENTOR")] == \
        [("KE-2026-0001", {"reason": "not_your_engagement"})]
    assert not run(unit, "U_MENTOR", f"mentor end KE-2026-0001 subject={unit.father} result=completed").ok


def test_mentor_logs_and_ends_their_own_engagement(unit):
    ok(unit, "U_MENTOR", f'mentor log KE-2026-0001 subject={unit.son} date="i går 15:00" "Mødtes på biblioteket"')
    ok(unit, "U_MENTOR", f"mentor end KE-2026-0001 subject={unit.son} result=completed")
    assert not run(unit, "U_MENTOR", f'mentor log KE-2026-0001 subject={unit.son} "efter slut"').ok


# --- ad hoc participants ------------------------------------------------------------------------------


def test_adhoc_sees_only_owned_cases(unit):
    assert "No cases" in ok(unit, "U_BUF", "case list all").text
    assert not run(unit, "U_BUF", "case show KE-2026-0002").ok
    ok(unit, ADMIN, "case qualify KE-2026-0002 level=preventive")
    ok(unit, ADMIN, "case refer KE-2026-0002 to=BUF owner=<@U_BUF>")
    listing = ok(unit, "U_BUF", "case list all").text
    assert "KE-2026-0002" in listing and "KE-2026-0001" not in listing
    ok(unit, "U_BUF", "case show KE-2026-0002")
    ok(unit, "U_BUF", 'case note KE-2026-0002 "BUF har talt med skolen"')
    assert not run(unit, "U_BUF", "case show KE-2026-0001").ok
    assert not run(unit, "U_BUF", 'case note KE-2026-0001 "ikke min sag"').ok
    assert [e.case_ref for e in refusals(unit, "U_BUF")] == ["KE-2026-0002", "KE-2026-0001", "KE-2026-0001"]


# --- members and admins -------------------------------------------------------------------------------


def test_secretariat_cannot_create_or_change_admins(unit):
    before = row_counts(unit)
    reply = run(unit, "U_SEC", "unit add <@U_NEW> role=admin org=BIF")
    assert not reply.ok and "Only an admin" in reply.text
    assert not run(unit, "U_SEC", f"unit add <@{ADMIN}> role=member org=BIF").ok
    assert not run(unit, "U_SEC", f"unit remove <@{ADMIN}>").ok
    assert row_counts(unit)["member"] == before["member"]
    assert [json.loads(e.detail)["reason"] for e in refusals(unit, "U_SEC")] == ["admin_only"] * 3
    with unit_of_work(unit.engine) as session:
        assert session.exec(select(Member.role).where(Member.user_id == ADMIN)).one() == "admin"
    ok(unit, "U_SEC", "unit add <@U_NEW> role=member org=VINK")


def test_member_cannot_manage_the_unit(unit):
    for command in ("unit add <@U_NEW> role=member org=SSP", "unit members", "unit audit verify",
                    "unit keys rotate"):
        reply = run(unit, "U_SSP", command)
        assert not reply.ok and "Your role (member)" in reply.text


def test_only_admin_rotates_keys(unit):
    assert not run(unit, "U_SEC", "unit keys rotate").ok
    assert ok(unit, ADMIN, "unit keys rotate").ok


def test_last_admin_cannot_be_removed(unit):
    reply = run(unit, ADMIN, f"unit remove <@{ADMIN}>")
    assert not reply.ok and "last admin" in reply.text


def test_new_member_gets_a_welcome_dm(unit):
    ok(unit, ADMIN, "unit add <@U_KRIM|kim> role=member org=KRIM name=\"Kim K\"")
    dms = [(target, r.text) for kind, target, r in outbox_messages(unit) if kind == "user"]
    assert ("U_KRIM", "You have been added to the coordination unit as member (KRIM). Type `help` to get started.") \
        in dms


# --- audit --------------------------------------------------------------------------------------------


def test_case_views_are_audited_and_listed(unit):
    ok(unit, "U_SSP", "case show KE-2026-0001")
    reply = ok(unit, "U_SEC", "unit audit KE-2026-0001")
    assert f"· {mention('U_SSP')} (SSP) viewed the case" in reply.text
    assert f"· {mention('U_ADMIN')} (BIF) registered the case" in reply.text


def test_audit_chain_verifies(unit):
    reply = ok(unit, ADMIN, "unit audit verify")
    assert "intact" in reply.text


@pytest.mark.parametrize("tamper", [
    "UPDATE auditentry SET detail = '{\"reason\": \"nothing\"}' WHERE id = :id",
    "UPDATE auditentry SET actor = 'U_SOMEONE' WHERE id = :id",
    "UPDATE auditentry SET result = 'ok' WHERE id = :id",
    "DELETE FROM auditentry WHERE id = :id",
])
def test_audit_verify_detects_a_tampered_entry(unit, tamper):
    run(unit, "U_MENTOR", "case show KE-2026-0002")
    target = refusals(unit, "U_MENTOR")[0].id
    ok(unit, "U_SSP", "case show KE-2026-0001")  # entries after the tampered one
    with unit.engine.begin() as conn:
        conn.execute(text(tamper), {"id": target})
    reply = run(unit, ADMIN, "unit audit verify")
    assert not reply.ok and "BROKEN" in reply.text
    broken_at = target if "DELETE" not in tamper else target + 1
    assert f"entry {broken_at}" in reply.text


def test_audit_entries_hold_no_free_text(unit):
    ok(unit, "U_SSP", 'case note KE-2026-0001 "Skolen melder om fravær"')
    for entry in audit_entries(unit):
        assert "Skolen" not in entry.detail and SUMMARY not in entry.detail
        json.loads(entry.detail)


def test_request_from_other_platform_user_is_not_the_member(unit):
    reply = dispatch(unit, Invocation(user_id="u_ssp", text="case list"))
    assert not reply.ok  # user ids are exact


def test_a_mentors_access_ends_with_the_engagement(unit):
    assert ok(unit, "U_MENTOR", "case show KE-2026-0001")
    ok(unit, ADMIN, f"mentor end KE-2026-0001 subject={unit.son} result=completed")
    reply = run(unit, "U_MENTOR", "case show KE-2026-0001")
    assert not reply.ok and "no access" in reply.text
    assert "KE-2026-0001" not in run(unit, "U_MENTOR", "case list all").text
