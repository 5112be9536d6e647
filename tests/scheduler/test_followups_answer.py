"""Follow-ups that answer: a snooze lands in working hours, Done on an outcome check asks its question with
Yes / No, and a re-offer reminder names the person and the offer, with a button that makes it again."""

from __future__ import annotations

import pytest
from sqlmodel import select

from commands.reply import Invocation, Reply
from commands.router import dispatch
from scheduler.jobs.followups import sweep
from storage import outbox
from storage.db import unit_of_work
from storage.models import CaseEvent, OutboxMessage
from storage.pseudonym import format_pseudonym
from tests.scheduler.helpers import CONCERN, last_outbox_id, run, seed_members, set_now
from tests.scheduler.test_sweep import _declined, _engaged, followups, local

pytestmark = pytest.mark.procedures_off  # the follow-ups' own DMs, without the checklist's step reminders


def dms(svc, after: int) -> list[tuple[str, Reply]]:
    with unit_of_work(svc.engine) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.id > after, OutboxMessage.target_kind == "user"))
        return [(r.target, Reply.from_json(outbox.payload(session, svc.vault, r))) for r in rows]


def test_a_snooze_at_night_lands_on_the_next_working_hours_slot(svc):
    seed_members(svc)
    set_now(svc, local(2026, 11, 23, 10, 0))
    run(svc, CONCERN.format(severity="normal", age="15-17", received="2026-11-23 10:00"))
    run(svc, 'followup add KE-2026-0001 due="2026-11-24 09:00" "Ring til skolen"', user="OWNER")
    fid = followups(svc, "custom")[0].id
    set_now(svc, local(2026, 11, 24, 2, 36))  # Tuesday night
    reply = run(svc, f"followup snooze F-{fid} 1d", user="OWNER")
    assert followups(svc, "custom")[0].notify_at == local(2026, 11, 25, 8, 0) and "08:00" in reply.text
    set_now(svc, local(2026, 11, 27, 15, 30))  # Friday afternoon, after 16:00 a day later is Saturday
    run(svc, f"followup snooze F-{fid} 1d", user="OWNER")
    assert followups(svc, "custom")[0].notify_at == local(2026, 11, 30, 8, 0)  # Monday morning
    set_now(svc, local(2026, 11, 25, 10, 0))
    run(svc, f"followup snooze F-{fid} 1w", user="OWNER")  # inside working hours: a week to the minute
    assert followups(svc, "custom")[0].notify_at == local(2026, 12, 2, 10, 0)


def test_done_on_an_outcome_check_asks_in_positive_words_and_records_the_answer(svc):
    pseudonym = _engaged(svc)
    set_now(svc, local(2026, 3, 2, 10, 0))
    run(svc, f"mentor end KE-2026-0001 subject={pseudonym} result=completed", user="MENTOR")
    mark = last_outbox_id(svc)
    sweep(svc, local(2027, 3, 2, 10, 0))
    reminders = {r.title: r for _, r in dms(svc, mark)}
    assert all("yes =" not in r.text for r in reminders.values())
    outcome = followups(svc, "outcome_12m")[0]
    done = next(b for b in reminders[f"F-{outcome.id} · KE-2026-0001"].buttons if b.action_id == "followup.done")
    asked = run(svc, done.command, user="OWNER")
    assert "in education or employment?" in asked.text and format_pseudonym(pseudonym) in asked.text
    assert [b.label for b in asked.buttons] == ["Yes", "No"] and followups(svc, "outcome_12m")[0].state == "sent"
    run(svc, asked.buttons[1].command, user="OWNER")
    assert followups(svc, "outcome_12m")[0].state == "done"
    with unit_of_work(svc.engine) as session:
        event = session.exec(select(CaseEvent).where(CaseEvent.kind == "outcome")).one()
    assert '"outcome": false' in event.data


def test_a_reoffer_reminder_names_the_person_and_the_offer_and_offers_again(svc):
    pseudonym = _declined(svc)
    mark = last_outbox_id(svc)
    sweep(svc, local(2026, 4, 13, 8, 0))
    [(target, reminder)] = dms(svc, mark)
    assert target == "OWNER" and format_pseudonym(pseudonym) in reminder.text
    assert "mentor" in reminder.text and "3 months" in reminder.text and "3m" not in reminder.text
    again = reminder.buttons[0]
    assert again.label == "Offer again"
    assert again.command == f"case offer KE-2026-0001 subject={format_pseudonym(pseudonym)} kind=mentor"
    set_now(svc, local(2026, 4, 13, 9, 0))
    assert dispatch(svc, Invocation("OWNER", again.command)).ok
    assert [f.state for f in followups(svc, "reoffer")] == ["done", "done"]  # made again: reminders answered
