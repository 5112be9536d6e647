"""The case lifecycle of SPEC.md §2: states, the visitation deadline, offers and consent, close and reopen."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from cmdkit import (
    ADMIN,
    SEVERITY_HIGH_CONCERN,
    add_member,
    case_row,
    confirmed,
    events,
    new_case,
    ok,
    pseudonyms,
    row_counts,
    run,
    seed_admin,
)

from commands.markup import mention
from storage.enums import CHECKING_ORGS


@pytest.fixture
def unit(svc):
    seed_admin(svc)
    add_member(svc, "U_SSP", "member", "SSP")
    add_member(svc, "U_MENTOR", "mentor", "EKP")
    return svc


def concern(severity: str = "high", age: str = "15-17", extra: str = "") -> str:
    return (f"concern new severity={severity} track=child age={age} source=social district=Valby "
            f'basis=rpl115 summary="Bekymring efter hjemmebesøg" {extra}').strip()


def refer_ready(svc, ref: str, level: str = "preventive") -> None:
    ok(svc, ADMIN, f"case qualify {ref} level={level}")


# --- states -------------------------------------------------------------------------------------------


def test_new_concern_opens_case_in_state_new_with_reference_and_deadline(unit, clock):
    reply = ok(unit, ADMIN, SEVERITY_HIGH_CONCERN)
    assert "KE-2026-0001" in reply.text
    assert "25 Nov 2026, 10:00" in reply.text  # 48 h after Monday 10:00 Copenhagen
    case = case_row(unit, "KE-2026-0001")
    assert case.state == "new"
    assert case.received_at == clock.now()
    assert case.deadline_at == clock.now() + timedelta(hours=48)


@pytest.mark.parametrize("text, state_after", [
    ("case refer {ref} to=SOF", "new"),  # not qualified, no level
    ("case reopen {ref}", "new"),  # not closed
    ("case offer {ref} subject={p} kind=mentor", "new"),  # not referred
])
def test_invalid_transition_is_refused_clearly_and_changes_nothing(unit, text, state_after):
    ref = new_case(unit)
    p = pseudonyms(unit, ref)[0]
    before = row_counts(unit)
    reply = run(unit, ADMIN, text.format(ref=ref, p=p))
    assert not reply.ok and reply.private
    assert ref in reply.text and "Usage:" in reply.text
    assert case_row(unit, ref).state == state_after
    after = row_counts(unit)
    assert after == before


def test_refer_before_level_is_set_names_the_next_step(unit):
    ref = new_case(unit)
    ok(unit, ADMIN, f"case qualify {ref}")
    reply = run(unit, ADMIN, f"case refer {ref} to=SOF")
    assert not reply.ok
    assert f"case qualify {ref} level=" in reply.text
    assert case_row(unit, ref).state == "qualifying"


def test_qualify_a_referred_case_is_refused(unit):
    ref = new_case(unit)
    refer_ready(unit, ref)
    ok(unit, ADMIN, f"case refer {ref} to=SOF")
    reply = run(unit, ADMIN, f"case qualify {ref} level=intervening")
    assert not reply.ok and "is referred; it can only become qualifying from: new, qualifying." in reply.text
    assert case_row(unit, ref).level == "preventive"


def test_register_checks_track_the_missing_orgs(unit):
    ref = new_case(unit)
    reply = ok(unit, "U_SSP", f"case checked {ref} org=SSP found=no")
    assert case_row(unit, ref).state == "qualifying"
    missing = [f.value for f in reply.fields][0]
    assert "SSP" not in missing and "VINK" in missing
    for org in CHECKING_ORGS:
        reply = ok(unit, ADMIN, f"case checked {ref} org={org.value} found=yes")
    assert reply.fields[0].value == "none"
    checked = [json.loads(d) for k, d in events(unit, ref) if k == "checked"]
    assert [c["org"] for c in checked] == ["SSP", *[o.value for o in CHECKING_ORGS]]
    assert checked[0]["found"] is False


def test_only_fixed_member_orgs_check_registers(unit):
    ref = new_case(unit)
    reply = run(unit, ADMIN, f"case checked {ref} org=BUF")
    assert not reply.ok and "SSP, VINK, POLICE, KRIM, SOF, EKP" in reply.text


# --- visitation deadline ------------------------------------------------------------------------------


@pytest.mark.parametrize("severity, hours", [("critical", 24), ("high", 48), ("normal", 72)])
def test_visitation_deadline_depends_on_severity(unit, clock, severity, hours):
    ref = new_case(unit, text=concern(severity))
    assert case_row(unit, ref).deadline_at - clock.now() == timedelta(hours=hours)


@pytest.mark.parametrize("severity, hours", [("critical", 24), ("high", 48), ("normal", 72)])
def test_referral_on_the_deadline_is_met(unit, clock, severity, hours):
    ref = new_case(unit, text=concern(severity))
    refer_ready(unit, ref)
    clock.advance(hours=hours)
    reply = ok(unit, ADMIN, f"case refer {ref} to=SOF")
    assert "deadline met" in reply.text
    case = case_row(unit, ref)
    assert case.state == "referred" and case.deadline_met is True and case.referred_at == clock.now()
    referred = [json.loads(d) for k, d in events(unit, ref) if k == "referred"]
    assert referred == [{"to": "SOF", "owner": None, "deadline_met": True}]
    states = [json.loads(d) for k, d in events(unit, ref) if k == "state"]
    assert states[-1] == {"from": "qualifying", "to": "referred", "org": "SOF"}  # the state, not the org


@pytest.mark.parametrize("severity, hours", [("critical", 24), ("high", 48), ("normal", 72)])
def test_referral_after_the_deadline_is_missed(unit, clock, severity, hours):
    ref = new_case(unit, text=concern(severity))
    refer_ready(unit, ref)
    clock.advance(hours=hours, minutes=1)
    assert "(overdue by 1 minute)" in ok(unit, ADMIN, "case list overdue").text
    reply = ok(unit, ADMIN, f"case refer {ref} to=SOF")
    assert "deadline missed" in reply.text
    assert case_row(unit, ref).deadline_met is False
    assert "No cases (overdue)" in ok(unit, ADMIN, "case list overdue").text


def test_received_set_back_moves_the_deadline(unit, clock):
    ref = new_case(unit, text=concern("high", extra='received="2026-11-22 09:30"'))
    case = case_row(unit, ref)
    assert case.received_at == datetime(2026, 11, 22, 8, 30, tzinfo=UTC)
    assert case.deadline_at == datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    refer_ready(unit, ref)
    clock.advance(hours=24)  # Tuesday 10:00: past the deadline counted from the call
    assert "deadline missed" in ok(unit, ADMIN, f"case refer {ref} to=SOF").text


def test_received_in_the_previous_year_takes_that_year_reference(unit):
    ref = new_case(unit, text=concern("normal", extra='received="2025-12-31 23:30"'))
    assert ref == "KE-2025-0001"
    assert new_case(unit) == "KE-2026-0001"


def test_received_in_the_future_is_refused(unit):
    reply = run(unit, ADMIN, concern(extra='received="2026-11-24 10:00"'))
    assert not reply.ok and "future" in reply.text and "Usage:" in reply.text
    assert row_counts(unit)["cases"] == 0


def test_referral_records_owner_and_dms_them(unit):
    ref = new_case(unit)
    refer_ready(unit, ref)
    reply = ok(unit, ADMIN, f"case refer {ref} to=SOF owner=<@U_SSP>")
    assert mention("U_SSP") in reply.text
    case = case_row(unit, ref)
    assert case.responsible_org == "SOF" and case.owner_id is not None


def test_referral_to_unknown_owner_is_refused_and_stores_nothing(unit):
    ref = new_case(unit)
    refer_ready(unit, ref)
    before = row_counts(unit)
    reply = run(unit, ADMIN, f"case refer {ref} to=SOF owner=<@U_NOBODY>")
    assert not reply.ok and "U_NOBODY" in reply.text
    assert row_counts(unit) == before
    assert case_row(unit, ref).state == "qualifying"


# --- offers, consent, engagements ---------------------------------------------------------------------


def referred_case(svc, ages: str = "25+,15-17") -> tuple[str, list[str]]:
    ref = new_case(svc, text=concern(age=ages))
    refer_ready(svc, ref)
    ok(svc, ADMIN, f"case refer {ref} to=SOF")
    return ref, pseudonyms(svc, ref)


def test_adult_offer_needs_consent(unit):
    ref, (father, _son) = referred_case(unit)
    ok(unit, ADMIN, f"case offer {ref} subject={father} kind=parent_coach")
    before = row_counts(unit)
    reply = run(unit, ADMIN, f"case respond {ref} subject={father} kind=parent_coach accepted")
    assert not reply.ok and "consent=yes" in reply.text and "§12b" in reply.text
    assert row_counts(unit) == before
    ok(unit, ADMIN, f"case respond {ref} subject={father} kind=parent_coach accepted consent=yes")
    assert case_row(unit, ref).state == "active"


def test_adult_may_decline_without_consent(unit):
    ref, (father, _son) = referred_case(unit)
    ok(unit, ADMIN, f"case offer {ref} subject={father} kind=exit")
    ok(unit, ADMIN, f"case respond {ref} subject={father} kind=exit declined")
    assert case_row(unit, ref).state == "follow_up"


def test_child_offer_accepted_without_consent_becomes_engagement(unit):
    ref, (_father, son) = referred_case(unit)
    ok(unit, ADMIN, f"case offer {ref} subject={son} kind=mentor")
    assert not run(unit, ADMIN, f"case offer {ref} subject={son} kind=mentor").ok  # already pending
    ok(unit, ADMIN, f"case respond {ref} subject={son} kind=mentor accepted")
    ok(unit, ADMIN, f"case assign {ref} subject={son} kind=mentor mentor=<@U_MENTOR>")
    case = case_row(unit, ref)
    assert case.state == "active"
    kinds = [k for k, _ in events(unit, ref)]
    assert kinds[-3:] == ["offer_response", "state", "assigned"]


def test_respond_without_offer_is_refused(unit):
    ref, (_father, son) = referred_case(unit)
    reply = run(unit, ADMIN, f"case respond {ref} subject={son} kind=mentor accepted")
    assert not reply.ok and "no pending" in reply.text


def test_unknown_subject_is_refused(unit):
    ref, _ = referred_case(unit)
    reply = run(unit, ADMIN, f"case offer {ref} subject=ZZZZ-ZZZZ kind=mentor")
    assert not reply.ok and "ZZZZ-ZZZZ" in reply.text


# --- close and reopen ---------------------------------------------------------------------------------


@pytest.mark.procedures_off  # closes a referred case without its checklist
def test_close_with_active_engagement_is_refused(unit):
    ref, (_father, son) = referred_case(unit)
    ok(unit, ADMIN, f"case offer {ref} subject={son} kind=mentor")
    ok(unit, ADMIN, f"case respond {ref} subject={son} kind=mentor accepted")
    before = row_counts(unit)
    reply = run(unit, ADMIN, f"case close {ref} reason=completed")
    assert not reply.ok and "mentor end" in reply.text
    assert row_counts(unit) == before and case_row(unit, ref).state == "active"
    ok(unit, ADMIN, f"mentor end {ref} subject={son} result=completed")
    assert case_row(unit, ref).state == "follow_up"
    ok(unit, ADMIN, f"case close {ref} reason=completed")
    assert case_row(unit, ref).state == "closed"


@pytest.mark.procedures_off  # closes a referred case without its checklist
def test_close_withdraws_pending_offers(unit):
    ref, (_father, son) = referred_case(unit)
    ok(unit, ADMIN, f"case offer {ref} subject={son} kind=mentor")
    asked = ok(unit, ADMIN, f"case close {ref} reason=moved")
    assert "1 pending offer is withdrawn" in asked.text and case_row(unit, ref).state != "closed"
    confirmed(unit, ADMIN, f"case close {ref} reason=moved")
    assert not run(unit, ADMIN, f"case respond {ref} subject={son} kind=mentor accepted").ok


def test_concern_without_substance_closes_from_new(unit, clock):
    ref = new_case(unit)
    reply = ok(unit, ADMIN, f"case close {ref} reason=unfounded")
    assert "unfounded" in reply.text
    case = case_row(unit, ref)
    assert case.state == "closed" and case.close_reason == "unfounded" and case.closed_at == clock.now()
    again = run(unit, ADMIN, f"case close {ref} reason=unfounded")
    assert not again.ok
    assert "is closed; it can only become closed from: new, qualifying, referred, active, follow-up" in again.text


def test_reopen_returns_a_closed_case_to_qualifying(unit):
    ref = new_case(unit)
    ok(unit, ADMIN, f"case close {ref} reason=unfounded")
    assert not run(unit, ADMIN, f"case checked {ref} org=SSP").ok
    reply = ok(unit, ADMIN, f"case reopen {ref}")
    assert "reopened" in reply.text
    case = case_row(unit, ref)
    assert case.state == "qualifying" and case.closed_at is None and case.close_reason is None
    states = [json.loads(d) for k, d in events(unit, ref) if k == "state"]
    assert states == [{"from": "new", "to": "closed", "reason": "unfounded"},
                      {"from": "closed", "to": "qualifying"}]
    ok(unit, ADMIN, f"case checked {ref} org=SSP")


def test_bad_close_reason_gives_the_choices(unit):
    ref = new_case(unit)
    reply = run(unit, ADMIN, f"case close {ref} reason=bored")
    assert not reply.ok and "handed to the ordinary system" in reply.text  # the choices in words, not codes
    assert "Usage: `case close KE-… reason=REASON`" in reply.text


def test_every_change_is_a_timeline_event_with_actor(unit):
    ref = new_case(unit)
    ok(unit, "U_SSP", f"case checked {ref} org=SSP")
    ok(unit, "U_SSP", f'case note {ref} "Skolen melder fravær"')
    show = ok(unit, ADMIN, f"case show {ref}")
    timeline = [f for f in show.fields if f.label.startswith("23 Nov 2026, 10:00")]
    events = ["Concern received: high severity", "Person ", "State changed from new to qualifying",
              "SSP checked its registers.", "Note: Skolen melder fravær"]
    assert len(timeline) == len(events) and all(f.value.startswith(e) for f, e in zip(timeline, events, strict=True))
    assert any(mention("U_SSP") in f.label and "Skolen melder fravær" in f.value for f in timeline)


def test_mentor_log_in_the_future_is_refused(unit):
    ref, (_father, son) = referred_case(unit)
    ok(unit, ADMIN, f"case offer {ref} subject={son} kind=mentor")
    ok(unit, ADMIN, f"case respond {ref} subject={son} kind=mentor accepted")
    ok(unit, ADMIN, f"case assign {ref} subject={son} kind=mentor mentor=<@U_MENTOR>")
    before = row_counts(unit)
    reply = run(unit, "U_MENTOR", f'mentor log {ref} subject={son} date=2026-11-24 "I morgen"')
    assert not reply.ok and "cannot be in the future" in reply.text
    assert row_counts(unit) == before
    ok(unit, "U_MENTOR", f'mentor log {ref} subject={son} date="2026-11-20 15:00" "Sidste uge"')


def test_reopen_restarts_the_visitation_window_from_the_reopening(unit, clock):
    ref = new_case(unit)
    ok(unit, ADMIN, f"case close {ref} reason=unfounded")
    clock.advance(days=30)
    reply = ok(unit, ADMIN, f"case reopen {ref}")
    case = case_row(unit, ref)
    assert case.deadline_at == clock.now() + timedelta(hours=48)
    assert case.referred_at is None and case.deadline_met is None
    assert "25 Dec 2026, 10:00" in reply.text  # 48 h from the reopening, local time
    ok(unit, ADMIN, f"case qualify {ref} level=preventive")
    clock.advance(hours=20)
    assert "met" in ok(unit, ADMIN, f"case refer {ref} to=SSP").text
    assert case_row(unit, ref).deadline_met is True

