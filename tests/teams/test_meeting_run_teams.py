"""A whole meeting run from the published agenda's buttons in Teams (the agenda card in the unit channel, the
forms in dialogs its buttons open) leaves the same minutes and follow-ups as the typed run."""

from __future__ import annotations

from typing import Any

import pytest
from teams_fakes import FakeConnector
from teams_kit import ADMIN, UNIT_CHANNEL, TeamsServer, actions, cards, text_of, user, wait_until
from test_teams_cards import check_card, inputs, shown_card

from storage.clock import FixedClock
from tests.conftest import make_settings, make_svc
from tests.meetings.runkit import DECISION, outcome, setup, typed, typed_run

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::Warning:microsoft_teams")
SSP, POL = user(0x55, "Sara SSP"), user(0x90, "Per Politi")


def agenda_action(connector: FakeConnector, command: str) -> dict[str, Any] | None:
    for activity in connector.posted(UNIT_CHANNEL):
        for card in cards(activity):
            for action in actions(card):
                if ((action.get("data") or {}).get("koord") or {}).get("cmd") == command:
                    return action
    return None


async def form_after(teams: TeamsServer, connector: FakeConnector, action: dict[str, Any]) -> dict[str, Any]:
    """A button of the agenda card whose command opens a form opens it at once in a dialog; the channel and the
    1:1 chat get nothing."""
    before = len(connector.calls)
    assert action["type"] == "Action.Submit" and action["data"]["msteams"]["type"] == "task/fetch", action
    form = shown_card(await teams.click(ADMIN, action, channel=UNIT_CHANNEL))
    check_card(form)
    assert not [c for c in connector.calls[before:] if c.body.get("attachments")]
    return form


async def test_a_meeting_run_from_the_agenda_card_equals_the_typed_run(
        teams: TeamsServer, connector: FakeConnector, clock: FixedClock, second_db_url: str) -> None:
    for line in setup(SSP.aad, POL.aad):
        await teams.say(ADMIN, line)
    await teams.say(ADMIN, "agenda publish M-2026-001")
    decide = await wait_until(lambda: agenda_action(connector, "minutes KE-2026-0001 M-2026-001"),
                              what="the agenda card's buttons")

    form = await form_after(teams, connector, decide)
    fields = inputs(form)
    assert fields["due"]["type"] == "Input.Date" and fields["followup"]["type"] == "Input.Toggle"
    assert {c["value"] for c in fields["owner"]["choices"]} >= {SSP.aad, POL.aad}
    refused = shown_card(await teams.click(ADMIN, form["actions"][0], {"text": "", "owner": SSP.aad,
                                                                       "due": "2026-01-01", "followup": "yes"}))
    kept = inputs(refused)
    assert kept["owner"]["value"] == SSP.aad and kept["due"]["value"] == "2026-01-01"  # what was typed stays
    assert "Required." in text_of(refused)
    done = shown_card(await teams.click(ADMIN, refused["actions"][0], {"text": DECISION, "owner": SSP.aad,
                                                                       "due": "2026-12-20", "followup": "yes"}))
    assert "KE-2026-0001" in text_of(done)

    await teams.click(ADMIN, agenda_action(connector, "agenda postpone M-2026-001 KE-2026-0002"),
                      channel=UNIT_CHANNEL)
    form = await form_after(teams, connector, agenda_action(connector, "meeting attendance M-2026-001"))
    assert {c["value"] for c in inputs(form)["present"]["choices"]} >= {ADMIN.aad, SSP.aad, POL.aad}
    shown_card(await teams.click(ADMIN, form["actions"][0], {"present": f"{ADMIN.aad},{SSP.aad}"}))
    await teams.say(ADMIN, "meeting close M-2026-001")

    by_hand = make_svc(make_settings(second_db_url, admin_users=(ADMIN.aad,)), clock)
    typed(by_hand, *setup(SSP.aad, POL.aad), "agenda publish M-2026-001", *typed_run(ADMIN.aad, SSP.aad),
          admin=ADMIN.aad, name=ADMIN.name)
    assert outcome(teams.svc) == outcome(by_hand)
    by_hand.engine.dispose()
