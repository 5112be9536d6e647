"""Every command's form on Teams, generated from the registry: the bare command opens an Adaptive Card (1.5)
in the 1:1 chat; a submission with the required fields empty comes back as the same card with an error under
every one of them and what was typed kept."""

from __future__ import annotations

import pytest
from teams_fakes import FakeConnector
from teams_kit import ADMIN, TeamsServer, card_of, user
from test_teams_cards import check_card, inputs, shown_card

from tests.commands.test_command_forms import bare, commands_needing_a_form, counts
from tests.meetings.runkit import setup

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::Warning:microsoft_teams")
SSP, POL = user(0x55, "Sara SSP"), user(0x90, "Per Politi")
KEPT = "beholdt"


@pytest.mark.parametrize("name", [c.name for c in commands_needing_a_form()])
async def test_the_bare_command_opens_a_card_that_keeps_values_and_reports_every_missing_field(
        teams: TeamsServer, connector: FakeConnector, name: str) -> None:
    for line in setup(SSP.aad, POL.aad):
        await teams.say(ADMIN, line)
    cmd = next(c for c in commands_needing_a_form() if c.name == name)
    asked = await teams.say(ADMIN, bare(cmd))
    form = card_of(next(a for a in connector.posted(ADMIN.chat) if a.get("replyToId") == asked))
    check_card(form)
    fields = inputs(form)
    required = {name for name, e in fields.items() if e.get("isRequired")}
    optional_text = [name for name, e in fields.items()
                     if e["type"] == "Input.Text" and not e.get("isRequired") and e.get("style") != "Password"]
    values = {name: "" for name in fields} | {name: KEPT for name in optional_text}
    stored = counts(teams.svc)
    answer = await teams.click(ADMIN, form["actions"][0], values)
    if not required:
        return
    again = shown_card(answer)
    shown = inputs(again)
    assert all(shown[name].get("value") == KEPT for name in optional_text)
    texts = [e for e in again["body"] if e["type"] == "TextBlock" and e.get("color") == "Attention"]
    assert len(texts) >= len(required) + 1  # "not saved", then one under each missing field
    assert counts(teams.svc) == stored
