"""Two meetings at once: a command that would pick "the current meeting" asks which one (a button each) and
stores nothing until told; outside any meeting's slot, minutes say that `meeting=M-…` names it."""

from __future__ import annotations

from sqlmodel import func, select

from commands.context import Services
from storage.db import unit_of_work
from storage.models import MinuteEntry
from tests.meetings.mtkit import concern, local, ok, say, seed


def decisions(svc: Services) -> int:
    with unit_of_work(svc.engine) as session:
        return session.exec(select(func.count()).select_from(MinuteEntry)).one()


def two_at_once(svc: Services) -> None:
    seed(svc)
    ok(svc, 'meeting adhoc when="2026-11-26 13:00" duration=60m topic="Akut"')
    ok(svc, 'meeting adhoc when="2026-11-26 13:30" duration=60m topic="Akut to"')


def test_agenda_asks_which_of_two_overlapping_meetings(svc: Services):
    two_at_once(svc)
    asked = ok(svc, "agenda")
    assert "M-2026-001" in asked.text and "M-2026-002" in asked.text
    assert [b.command for b in asked.buttons] == ["agenda M-2026-001", "agenda M-2026-002"]
    assert "M-2026-002" in (ok(svc, asked.buttons[1].command).title or "")


def test_minutes_ask_which_meeting_and_store_nothing_until_told(svc: Services):
    two_at_once(svc)
    case = concern(svc)
    svc.clock.instant = local(2026, 11, 26, 13, 45)
    asked = ok(svc, f'minutes {case} "Skolen kontaktes"')
    assert len(asked.buttons) == 2 and decisions(svc) == 0
    assert asked.buttons[0].command == f'minutes {case} "Skolen kontaktes" meeting=M-2026-001'
    recorded = ok(svc, asked.buttons[1].command)
    assert "M-2026-002" in recorded.text and decisions(svc) == 1


def test_minutes_outside_a_meeting_say_how_to_name_one(svc: Services):
    seed(svc)
    case = concern(svc)
    refused = say(svc, f'minutes {case} "Skolen kontaktes"')
    assert not refused.ok and "meeting=M-" in refused.text and "[meeting=M-…]" in refused.text


def test_the_one_meeting_going_on_now_is_not_asked_about(svc: Services):
    seed(svc)
    ok(svc, 'meeting adhoc when="2026-11-26 09:00" duration=60m topic="Morgen"')
    ok(svc, 'meeting adhoc when="2026-11-26 13:00" duration=60m topic="Eftermiddag"')
    case = concern(svc)
    svc.clock.instant = local(2026, 11, 26, 13, 30)  # the morning one ended 2.5 hours ago, still in its window
    assert "M-2026-002" in ok(svc, f'minutes {case} "Skolen kontaktes"').text and decisions(svc) == 1
    svc.clock.instant = local(2026, 11, 26, 11, 30)  # between the two: which one is meant?
    asked = ok(svc, f'minutes {case} "Forældre orienteres"')
    assert len(asked.buttons) == 2 and decisions(svc) == 1
