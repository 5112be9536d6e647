"""SPEC.md §4 reminder rules, with frozen time: who gets which DM or post, when, and only once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import select

from commands.context import Services
from scheduler.jobs.followups import sweep
from storage.clock import SystemClock
from storage.db import unit_of_work
from storage.models import FollowUp
from tests.scheduler.helpers import CONCERN, last_outbox_id, run, seed_members, sent, set_now

# Written before work procedures: its cases close without ticking checklist steps (or it counts reminders
# and agenda items that steps would add); procedures have their own tests (tests/profile/test_steps.py).
pytestmark = pytest.mark.procedures_off

CPH = ZoneInfo("Europe/Copenhagen")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=CPH).astimezone(UTC)


def followups(svc, kind: str) -> list[FollowUp]:
    with unit_of_work(svc.engine) as session:
        return list(session.exec(select(FollowUp).where(FollowUp.kind == kind).order_by(FollowUp.id)))


def test_high_concern_monday_gets_75_percent_dm_next_working_morning_then_overdue_posts(svc):
    seed_members(svc)
    set_now(svc, local(2026, 11, 23, 10, 0))  # Monday 10:00
    run(svc, CONCERN.format(severity="high", age="15-17", received="2026-11-23 10:00"))
    mark = last_outbox_id(svc)
    # 75 % of 48 h = Tuesday 22:00: outside working hours → waits.
    assert sweep(svc, local(2026, 11, 24, 22, 0)).deferred == 1
    assert sent(svc, mark) == []
    assert sweep(svc, local(2026, 11, 25, 7, 59)).reminded == 0
    assert sweep(svc, local(2026, 11, 25, 8, 0)).reminded == 1
    msgs = sent(svc, mark)
    assert [(k, t) for k, t, _ in msgs] == [("user", "SEC")]  # no owner yet → the secretariat, by DM
    assert "KE-2026-0001" in msgs[0][2] and "25 Nov 2026, 10:00" in msgs[0][2]
    mark = last_outbox_id(svc)
    # Deadline Wednesday 10:00 → post to the secretariat channel; again next working morning; not twice.
    assert sweep(svc, local(2026, 11, 25, 10, 0)).reminded == 1
    assert sweep(svc, local(2026, 11, 25, 10, 0)).reminded == 0
    assert sweep(svc, local(2026, 11, 25, 15, 0)).reminded == 0
    assert sweep(svc, local(2026, 11, 26, 8, 0)).reminded == 1
    msgs = sent(svc, mark)
    assert [(k, t) for k, t, _ in msgs] == [("channel", "secretariat")] * 2
    assert all("Udtaler" not in text for _, _, text in msgs)


def test_referral_stops_visitation_reminders_and_owner_gets_the_dm(svc):
    seed_members(svc)
    set_now(svc, local(2026, 11, 23, 10, 0))
    run(svc, CONCERN.format(severity="normal", age="15-17", received="2026-11-23 10:00"))
    run(svc, "case qualify KE-2026-0001 level=preventive")
    set_now(svc, local(2026, 11, 24, 9, 0))
    run(svc, "case refer KE-2026-0001 to=SOF owner=OWNER")
    mark = last_outbox_id(svc)
    for day in range(24, 31):
        sweep(svc, local(2026, 11, day, 12, 0))
    assert sent(svc, mark) == []
    assert [f.state for f in followups(svc, "visitation")] == ["done"]


def test_critical_concern_at_night_is_reminded_at_once(svc):
    seed_members(svc)
    set_now(svc, local(2026, 11, 28, 2, 0))  # Saturday night
    run(svc, CONCERN.format(severity="critical", age="15-17", received="2026-11-28 02:00"))
    mark = last_outbox_id(svc)
    assert sweep(svc, local(2026, 11, 28, 20, 0)).reminded == 1  # 18 h = 75 % of 24 h, a Saturday evening
    assert [(k, t) for k, t, _ in sent(svc, mark)] == [("user", "SEC")]
    assert sweep(svc, local(2026, 11, 29, 2, 0)).reminded == 1  # overdue on Sunday night: at once too
    assert sent(svc, mark)[-1][:2] == ("channel", "secretariat")


def _declined(svc) -> None:
    seed_members(svc)
    set_now(svc, local(2026, 1, 12, 10, 0))
    run(svc, CONCERN.format(severity="high", age="15-17", received="2026-01-12 09:00"))
    run(svc, "case qualify KE-2026-0001 level=pre_emptive")
    run(svc, "case refer KE-2026-0001 to=VINK owner=OWNER")
    with unit_of_work(svc.engine) as session:
        from storage.models import Subject

        pseudonym = session.exec(select(Subject.pseudonym)).one()
    run(svc, f"case offer KE-2026-0001 subject={pseudonym} kind=mentor")
    run(svc, f"case respond KE-2026-0001 subject={pseudonym} kind=mentor declined")
    return pseudonym


def test_declined_offer_is_reoffered_at_3_and_6_months_on_the_due_day(svc):
    _declined(svc)
    reoffers = followups(svc, "reoffer")
    assert [f.due_at.astimezone(CPH).date().isoformat() for f in reoffers] == ["2026-04-12", "2026-07-12"]
    mark = last_outbox_id(svc)
    # 12 April 2026 is a Sunday → Monday 13 April 08:00.
    assert sweep(svc, local(2026, 4, 12, 10, 0)).reminded == 0
    assert sweep(svc, local(2026, 4, 13, 8, 0)).reminded == 1
    assert [(k, t) for k, t, _ in sent(svc, mark)] == [("user", "OWNER")]
    # 12 July 2026 is a Sunday too.
    assert sweep(svc, local(2026, 7, 13, 8, 0)).reminded == 1
    assert sweep(svc, local(2026, 7, 14, 8, 0)).reminded == 0


def test_no_reoffer_after_an_accept_in_between(svc):
    pseudonym = _declined(svc)
    set_now(svc, local(2026, 3, 2, 10, 0))
    run(svc, f"case offer KE-2026-0001 subject={pseudonym} kind=mentor")
    run(svc, f"case respond KE-2026-0001 subject={pseudonym} kind=mentor accepted")
    assert [f.state for f in followups(svc, "reoffer")] == ["done", "done"]  # made again: nothing to remind
    mark = last_outbox_id(svc)
    sweep(svc, local(2026, 8, 3, 10, 0))
    assert all(kind != "user" or "tilbud" not in text.lower() for kind, _, text in sent(svc, mark))


def _engaged(svc) -> str:
    pseudonym = _declined(svc)
    set_now(svc, local(2026, 1, 19, 10, 0))  # Monday
    run(svc, f"case offer KE-2026-0001 subject={pseudonym} kind=mentor")
    run(svc, f"case respond KE-2026-0001 subject={pseudonym} kind=mentor accepted")
    run(svc, f"case assign KE-2026-0001 subject={pseudonym} kind=mentor mentor=MENTOR")
    return pseudonym


def test_mentor_checkin_after_seven_days_without_a_session(svc):
    _engaged(svc)
    mark = last_outbox_id(svc)
    assert sweep(svc, local(2026, 1, 26, 9, 59)).reminded == 0
    assert sweep(svc, local(2026, 1, 26, 10, 0)).reminded == 1
    assert [(k, t) for k, t, _ in sent(svc, mark)] == [("user", "MENTOR")]
    assert sweep(svc, local(2026, 1, 27, 9, 0)).reminded == 0  # not every sweep: weekly


def test_no_checkin_when_a_session_was_logged(svc):
    pseudonym = _engaged(svc)
    set_now(svc, local(2026, 1, 23, 14, 0))
    run(svc, f'mentor log KE-2026-0001 subject={pseudonym} "Gåtur og snak om skolen"', user="MENTOR")
    mark = last_outbox_id(svc)
    assert sweep(svc, local(2026, 1, 27, 9, 0)).reminded == 0
    assert sweep(svc, local(2026, 1, 30, 14, 0)).reminded == 1  # 7 days after the logged session
    assert sent(svc, mark)[0][1] == "MENTOR"


def test_engagement_end_creates_6_and_12_month_outcome_checks_answered_with_done(svc):
    pseudonym = _engaged(svc)
    set_now(svc, local(2026, 3, 2, 10, 0))
    run(svc, f"mentor end KE-2026-0001 subject={pseudonym} result=completed", user="MENTOR")
    assert [f.state for f in followups(svc, "mentor_checkin")] == ["cancelled"]
    assess, outcome = followups(svc, "assess_6m")[0], followups(svc, "outcome_12m")[0]
    assert assess.due_at == local(2026, 9, 2, 10, 0) and outcome.due_at == local(2027, 3, 2, 10, 0)
    mark = last_outbox_id(svc)
    assert sweep(svc, local(2026, 9, 2, 10, 0)).reminded == 1
    assert sent(svc, mark)[0][1] == "OWNER"
    set_now(svc, local(2026, 9, 2, 11, 0))
    from commands.reply import Invocation
    from commands.router import dispatch

    asked = dispatch(svc, Invocation("OWNER", f"followup done F-{assess.id}"))  # Done asks the question
    assert asked.ok and "out of risk?" in asked.text and followups(svc, "assess_6m")[0].state != "done"
    assert [b.label for b in asked.buttons] == ["Yes", "No"]
    run(svc, asked.buttons[0].command, user="OWNER")
    assert followups(svc, "assess_6m")[0].state == "done"
    # The DM is updated in place: a replacement row naming the original.
    from sqlmodel import col

    from storage.models import OutboxMessage

    with unit_of_work(svc.engine) as session:
        replacement = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id).desc())).first()
    assert replacement.replaces_id is not None


def test_snooze_moves_the_reminder_and_fourteen_days_of_downtime_remind_once(svc):
    seed_members(svc)
    set_now(svc, local(2026, 11, 23, 10, 0))
    run(svc, CONCERN.format(severity="normal", age="15-17", received="2026-11-23 10:00"))
    run(svc, 'followup add KE-2026-0001 due="2026-11-24 09:00" "Ring til skolen"', user="OWNER")
    run(svc, 'followup add KE-2026-0001 due="2026-11-25 09:00" "Tjek fremmøde"', user="OWNER")
    mark = last_outbox_id(svc)
    # The worker was down for 14 days: one reminder per follow-up, then daily overdue posts resume once.
    result = sweep(svc, local(2026, 12, 9, 10, 0))
    assert result.reminded == 3
    assert sorted(t for _, t, _ in sent(svc, mark)) == ["OWNER", "OWNER", "secretariat"]
    assert sweep(svc, local(2026, 12, 9, 10, 0)).reminded == 0
    fid = followups(svc, "custom")[0].id
    set_now(svc, local(2026, 12, 9, 10, 5))
    run(svc, f"followup snooze F-{fid} 1w", user="OWNER")
    # custom follow-ups are one-shot: after the DM they are 'sent'; snoozing re-arms them for a week later.
    assert sweep(svc, local(2026, 12, 15, 10, 0)).reminded == 1  # only the daily visitation post
    assert sweep(svc, local(2026, 12, 16, 10, 6)).reminded == 2  # snoozed one + daily post


def test_with_frozen_system_time_a_saturday_reminder_waits_for_monday(svc: Services, settings):
    seed_members(svc)
    system = Services(settings=svc.settings, engine=svc.engine, keys=svc.keys, clock=SystemClock())
    with time_machine.travel(local(2026, 11, 27, 9, 0), tick=False):
        run(system, CONCERN.format(severity="normal", age="15-17", received="2026-11-27 09:00"))
        run(system, 'followup add KE-2026-0001 due="2026-11-28 10:00" "Lørdagsopfølgning"', user="OWNER")
    with time_machine.travel(local(2026, 11, 28, 10, 0), tick=False):
        assert sweep(system, datetime.now(UTC)).reminded == 0
    with time_machine.travel(local(2026, 11, 30, 8, 0) + timedelta(seconds=1), tick=False):
        assert sweep(system, datetime.now(UTC)).reminded >= 1
