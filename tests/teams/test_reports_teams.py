"""Reports through Teams over real HTTP: the annual report is offered in the 1:1 chat and saved to OneDrive
through the file-consent flow; `report kpi` answers in the 1:1 chat."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from teams_fakes import FakeConnector
from teams_kit import ADMIN, TeamsServer, action, card_of, text_of

from bot.teams import render
from tests.teams.test_teams_files import consent, posted_with

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::Warning:microsoft_teams")


async def answer_to(teams: TeamsServer, connector: FakeConnector, text: str) -> dict:
    asked = await teams.say(ADMIN, text)
    return card_of(next(a for a in connector.posted(ADMIN.chat) if a.get("replyToId") == asked))


async def test_the_annual_report_is_saved_through_file_consent(teams: TeamsServer, connector: FakeConnector) -> None:
    await teams.say(ADMIN, "concern new severity=high track=child age=15-17 source=school district=Nørrebro "
                           'basis=rpl115 summary="Udtaler støtte til IS"')
    card = await answer_to(teams, connector, "report annual year=2026 format=pdf")
    assert "📎 annual-report-2026.pdf" in text_of(card)
    save = action(card, "Save annual-report-2026.pdf")
    assert save["verb"] == render.FILE
    await teams.click(ADMIN, save)
    [ask] = posted_with(connector, ADMIN, render.FILE_CONSENT_TYPE)
    assert ask["name"] == "annual-report-2026.pdf"
    upload = connector.upload_info("annual-report-2026.pdf")
    assert await consent(teams, ADMIN, ask["content"]["acceptContext"], upload) == 200
    [put] = connector.uploads
    reader = PdfReader(io.BytesIO(put.data))
    assert len([i for p in reader.pages for i in p.images]) == 3


async def test_report_kpi_answers_in_the_private_chat(teams: TeamsServer, connector: FakeConnector) -> None:
    card = await answer_to(teams, connector, "report kpi")
    assert "Concerns received: 0" in text_of(card) and "no cases yet" in text_of(card)
