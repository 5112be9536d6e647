"""Every command's form on Teams, generated from the registry: the bare command posts only an *Open form* card in
the 1:1 chat (the chat keeps no form), its button opens the form in a dialog (Adaptive Card 1.5); a submission
with the required fields empty comes back as the same form with an error under every one of them and what was
typed kept, and nothing is stored."""

from __future__ import annotations

import pytest
from teams_fakes import FakeConnector
from teams_kit import ADMIN, TeamsServer, card_of, open_card_action, user
from test_teams_cards import check_card, inputs, shown_card

from commands import registry
from commands.router import TABLE
from tests.commands.test_command_forms import bare, commands_needing_a_form, counts
from tests.meetings.runkit import setup

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::Warning:microsoft_teams")
SSP, POL = user(0x55, "Sara SSP"), user(0x90, "Per Politi")
KEPT = "beholdt"
ADVICE = 'concern advice source=school topic=signs "Lærer spurgte til tegn"'  # H-2026-0001, to promote
OWN = {"concern new", "case subject add"}  # their own forms (identifiers): commands/cases/


def with_a_form() -> list[str]:
    """The commands that have a form (tests/commands/test_command_forms.py fails for one that lacks it). A form
    with a file field is not a dialog on Teams: the file comes as an attachment to the chat (test_takeover_teams)."""
    def dialog(c: registry.Command) -> bool:
        form = TABLE.form_of(c)
        return c.name in OWN or (form is not None and all(f.kind != "file" for f in form.fields))
    return [c.name for c in commands_needing_a_form() if dialog(c)]


@pytest.mark.parametrize("name", with_a_form())
async def test_the_bare_command_opens_a_dialog_that_keeps_values_and_reports_every_missing_field(
        teams: TeamsServer, connector: FakeConnector, name: str) -> None:
    for line in (*setup(SSP.aad, POL.aad), ADVICE):
        await teams.say(ADMIN, line)
    cmd = next(c for c in commands_needing_a_form() if c.name == name)
    asked = await teams.say(ADMIN, bare(cmd))
    posted = card_of(next(a for a in connector.posted(ADMIN.chat) if a.get("replyToId") == asked))
    assert not [e for e in posted["body"] if e["type"].startswith("Input.")]  # the chat holds no form
    form = shown_card(await teams.click(ADMIN, open_card_action(posted)))
    check_card(form)
    fields = inputs(form)
    assert fields, form
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
