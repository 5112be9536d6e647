"""Cancelling a meeting whose decisions have no date says so in words, not "0 follow-ups were created"."""

from __future__ import annotations

from commands.context import Services
from tests.meetings.mtkit import concern, local, ok, seed


def test_decisions_without_a_date_are_kept_and_the_reply_says_no_follow_ups_in_words(svc: Services):
    seed(svc)
    case = concern(svc)
    made = ok(svc, 'meeting adhoc when="2026-11-23 10:30" duration=60m topic="Akut"')
    ref = next(w.strip(".,:") for w in made.text.split() if w.startswith("M-"))
    svc.clock.instant = local(2026, 11, 23, 10, 45)
    ok(svc, f'minutes {case} "Skolen kontaktes" meeting={ref}')
    asked = ok(svc, f"meeting cancel {ref}")
    confirm = next(b.command for b in asked.buttons if b.action_id == "confirm.yes")
    done = ok(svc, confirm)
    assert "none had a date, so no follow-ups were created" in done.text
    assert "0 follow-ups" not in done.text
