"""`unit profile import` in Teams: a card with the YAML field; a bad file is answered on the card with its
line and nothing stored; a good one makes version 2."""

from __future__ import annotations

import pytest
from teams_fakes import FakeConnector
from teams_kit import ADMIN, TeamsServer, count, text_of
from test_teams_cards import inputs, open_form, shown_card

from storage.profile import shipped_text
from storage.profile.tables import UnitProfileVersion

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::Warning:microsoft_teams")


async def test_the_import_card_takes_the_profile_and_names_the_bad_line(teams: TeamsServer,
                                                                       connector: FakeConnector) -> None:
    form = await open_form(teams, connector, "unit profile import")
    assert inputs(form)["yaml"]["isMultiline"] is True
    bad = shipped_text("copenhagen").replace("due: 5wd", "due: -5d", 1)
    answer = shown_card(await teams.click(ADMIN, form["actions"][0], {"yaml": bad}))
    assert "cannot be negative" in text_of(answer) and "line " in text_of(answer)
    assert count(teams.svc, UnitProfileVersion) == 0
    good = shipped_text("copenhagen").replace("normal: 72}", "normal: 96}", 1)
    done = shown_card(await teams.click(ADMIN, answer["actions"][0], {"yaml": good}))
    assert "version 2" in text_of(done)
    assert count(teams.svc, UnitProfileVersion) == 2
