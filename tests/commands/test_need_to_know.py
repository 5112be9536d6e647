"""Issue 26: one access rule on every path — no side doors through steps, follow-ups, App Home, the worker's
DMs and their buttons, ownership or engagements; identifier oracles counted against LOOKUP_LIMIT."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cmdkit import (
    ADMIN,
    add_member,
    audit_entries,
    new_case,
    ok,
    outbox_messages,
    pseudonyms,
    reply_text,
    run,
    seed_admin,
    submit,
)
from sqlmodel import select

from commands.guide.home import home
from commands.markup import plain
from scheduler.jobs.followups import sweep
from storage.db import unit_of_work
from storage.models import Case, FollowUp, Member
from storage.profile.tables import CaseStep

STEP_TITLE = "Hjemmebesøg hos familien"


@pytest.fixture
def two(svc):
    """KE-2026-0001 (nobody mentors it) and KE-2026-0002, where U_MENTOR mentors the only subject."""
    seed_admin(svc)
    for user, role, org in [("U_SEC", "secretariat", "BIF"), ("U_SSP", "member", "SSP"),
                            ("U_MENTOR", "mentor", "EKP"), ("U_BUF", "adhoc", "BUF")]:
        add_member(svc, user, role, org)
    first = new_case(svc)
    second = new_case(svc)
    (son,) = pseudonyms(svc, second)
    ok(svc, ADMIN, f"case qualify {second} level=preventive")
    ok(svc, ADMIN, f"case refer {second} to=SOF")
    ok(svc, ADMIN, f"case offer {second} subject={son} kind=mentor")
    ok(svc, ADMIN, f"case respond {second} subject={son} kind=mentor accepted")
    ok(svc, ADMIN, f"case assign {second} subject={son} kind=mentor mentor=<@U_MENTOR>")
    svc.first, svc.second = first, second
    return svc


def _step(svc, ref: str, n: int) -> CaseStep:
    with unit_of_work(svc.engine) as session:
        case_id = session.exec(select(Case.id).where(Case.ref == ref)).one()
        return session.exec(select(CaseStep).where(CaseStep.case_id == case_id, CaseStep.n == n)).one()


def _give_step_to(svc, ref: str, n: int, user: str) -> int:
    """An assignment made before this rule existed (or by a path that forgot it): straight in the tables."""
    with unit_of_work(svc.engine) as session:
        member = session.exec(select(Member).where(Member.user_id == user)).one()
        case_id = session.exec(select(Case.id).where(Case.ref == ref)).one()
        step = session.exec(select(CaseStep).where(CaseStep.case_id == case_id, CaseStep.n == n)).one()
        step.assignee_id = member.id
        followup = session.get(FollowUp, step.followup_id)
        followup.assignee_id = member.id
        session.add(step)
        session.add(followup)
        return followup.id


def test_a_step_cannot_be_given_to_a_mentor_who_may_not_see_the_case(two):
    ok(two, "U_SSP", f'case step add {two.first} "{STEP_TITLE}" due="2026-11-24 10:00"')
    reply = run(two, "U_SSP", f"case step {two.first} 1 assign=<@U_MENTOR>")
    assert not reply.ok and reply.outcome == "refused" and "no access" in reply.text
    assert _step(two, two.first, 1).assignee_id != _member_id(two, "U_MENTOR")
    denied = [e for e in audit_entries(two) if e.result == "refused" and e.case_ref == two.first]
    assert denied and denied[-1].action == "access.denied"
    assert not [r for kind, target, r in outbox_messages(two) if target == "U_MENTOR" and STEP_TITLE in r.text]
    # … to the mentor's own case it may be given.
    ok(two, "U_SSP", f'case step add {two.second} "Aftal næste møde" due="2026-11-24 10:00"')
    ok(two, "U_SSP", f"case step {two.second} 1 assign=<@U_MENTOR>")


def _member_id(svc, user: str) -> int:
    with unit_of_work(svc.engine) as session:
        return session.exec(select(Member.id).where(Member.user_id == user)).one()


def test_a_step_given_to_someone_without_the_case_opens_no_door(two):
    """The issue's example: App Home showed the step's text, the worker DMed it, *Udført* ticked it."""
    ok(two, "U_SSP", f'case step add {two.first} "{STEP_TITLE}" due="2026-11-24 10:00"')
    fid = _give_step_to(two, two.first, 1, "U_MENTOR")
    assert not run(two, "U_MENTOR", f"case show {two.first}").ok

    page = home(two, "U_MENTOR")
    assert STEP_TITLE not in reply_text(page) and two.first not in reply_text(page)

    sweep(two, two.clock.now() + timedelta(days=2))
    to_mentor = [r for kind, target, r in outbox_messages(two) if target == "U_MENTOR"]
    assert not any(STEP_TITLE in reply_text(r) or two.first in reply_text(r) for r in to_mentor)
    to_secretariat = [r for kind, target, r in outbox_messages(two) if target == "U_SEC"]
    assert any(STEP_TITLE in reply_text(r) for r in to_secretariat)  # the reminder is not lost

    for command in (f"followup done F-{fid}", f"followup snooze F-{fid} 1d"):
        reply = run(two, "U_MENTOR", command)
        assert not reply.ok and reply.outcome == "refused" and STEP_TITLE not in reply.text
    assert _step(two, two.first, 1).state == "open"
    listing = run(two, "U_MENTOR", "followup list")
    assert two.first not in reply_text(listing) and STEP_TITLE not in reply_text(listing)


@pytest.mark.procedures_off  # the hand-added step is step 1
def test_a_mentor_loses_a_step_with_the_engagement(two):
    ok(two, "U_SSP", f'case step add {two.second} "{STEP_TITLE}" due="2026-11-30 10:00"')
    ok(two, "U_SSP", f"case step {two.second} 1 assign=<@U_MENTOR>")
    assert STEP_TITLE in reply_text(home(two, "U_MENTOR"))
    (son,) = pseudonyms(two, two.second)
    ok(two, ADMIN, f"mentor end {two.second} subject={son} result=completed")
    assert STEP_TITLE not in reply_text(home(two, "U_MENTOR"))
    assert not run(two, "U_MENTOR", f"followup done F-{_step(two, two.second, 1).followup_id}").ok


def test_ownership_and_engagements_follow_the_roles(two):
    ref = two.first
    ok(two, ADMIN, f"case qualify {ref} level=preventive")
    reply = run(two, ADMIN, f"case refer {ref} to=SOF owner=<@U_MENTOR>")
    assert not reply.ok and reply.outcome == "refused"
    with unit_of_work(two.engine) as session:
        assert session.exec(select(Case.state).where(Case.ref == ref)).one() == "qualifying"  # nothing changed
    # An ad hoc participant may own a case: their role's rule ("assigned to them"), and the grant is audited.
    ok(two, ADMIN, f"case refer {ref} to=SOF owner=<@U_BUF>")
    grants = [e for e in audit_entries(two) if e.action == "access.grant" and e.case_ref == ref]
    assert len(grants) == 1 and "U_BUF" in grants[0].detail
    assert ok(two, "U_BUF", f"case show {ref}").title == ref


def test_a_form_about_a_case_is_checked_like_a_command(two):
    result = submit(two, "U_BUF", "case.subject", {"age": "15-17"}, {"case": two.second})
    assert result.reply is not None and not result.reply.ok and len(pseudonyms(two, two.second)) == 1


def test_the_lookup_alert_mentions_the_member_never_their_display_name(two):
    with unit_of_work(two.engine) as session:
        member = session.exec(select(Member).where(Member.user_id == "U_SSP")).one()
        member.display_name = "<!channel> Anne"
        session.add(member)
    two.settings = two.settings.model_copy(update={"lookup_limit": 2})
    for _ in range(2):
        submit(two, "U_SSP", "concern.lookup", {"identifier": "010190-1234", "purpose": "Tjek"})
    alerts = [r for kind, target, r in outbox_messages(two) if target == "secretariat" and "U_SSP" in r.text]
    assert alerts and "Anne" not in alerts[0].text and "<!channel>" not in alerts[0].text
    assert "@U_SSP" in plain(alerts[0].text)


INTAKE = {"severity": "high", "track": "child", "source": "school", "district": "Nørrebro", "basis": "rpl115",
          "summary": "Bekymring fra skolen", "subject1_age": "15-17"}


def test_every_form_that_derives_a_pseudonym_counts_against_the_lookup_limit(two):
    """The issue's side door: with LOOKUP_LIMIT used up, the add-person and intake forms still answered with
    the derived pseudonym (which other cases show); misses were counted nowhere."""
    two.settings = two.settings.model_copy(update={"lookup_limit": 3})
    known = "010190-1234"
    result = submit(two, "U_SSP", "concern.intake", {**INTAKE, "subject1_identifier": known})  # 1: a miss
    assert result.reply is not None and result.reply.ok
    result = submit(two, "U_SSP", "case.subject", {"age": "15-17", "identifier": "020290-2345"},
                    {"case": two.first})  # 2: a miss, counted too
    assert result.reply is not None and result.reply.ok
    submit(two, "U_SSP", "concern.lookup", {"identifier": "030390-3456", "purpose": "Tjek"})  # 3
    before = {ref: len(pseudonyms(two, ref)) for ref in (two.first, two.second)}
    cases = len(case_refs(two))

    added = submit(two, "U_SSP", "case.subject", {"age": "15-17", "identifier": known}, {"case": two.second})
    assert added.reply is not None and not added.reply.ok and added.reply.outcome == "refused"
    assert {ref: len(pseudonyms(two, ref)) for ref in before} == before
    intake = submit(two, "U_SSP", "concern.intake", {**INTAKE, "subject1_identifier": known})
    assert intake.reply is not None and not intake.reply.ok and len(case_refs(two)) == cases
    # Without an identifier nothing is derived, so nothing is limited.
    assert submit(two, "U_SSP", "concern.intake", INTAKE).reply.ok
    derived = [e for e in audit_entries(two) if e.action == "identifier.derive"]
    assert len(derived) == 2 and all(e.actor == "U_SSP" for e in derived)


def case_refs(svc) -> list[str]:
    with unit_of_work(svc.engine) as session:
        return list(session.exec(select(Case.ref)))


def test_forged_mention_marks_in_typed_text_are_dropped(two):
    """Only markup.mention makes a live mention: marks typed into a command or a form never survive."""
    from bot.slack.render import message

    forged = "\ue000U_SEC\ue001 og \ue002https://evil.example\ue003klik\ue004"
    ok(two, "U_SSP", f'case note {two.first} "Note {forged}"')
    result = submit(two, "U_SSP", "concern.intake", {**INTAKE, "summary": f"Resumé {forged}"})
    assert result.reply is not None and result.reply.ok
    for ref in (two.first, "KE-2026-0003"):
        shown = message(run(two, ADMIN, f"case show {ref}"), "en")
        text = str(shown)
        assert "<@U_SEC>" not in text and "<https://evil" not in text and "klik" in text
