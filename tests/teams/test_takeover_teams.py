"""`unit import cases` in Teams: the user attaches the spreadsheet to a message in the 1:1 chat (Teams hands
the bot a pre-authorised download URL); the bot fetches it and runs the same use case as the console and the
Slack modal. A dry run stores nothing; the import answers with the references and asks to delete the file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from teams_fakes import FakeConnector
from teams_kit import ADMIN, TeamsServer, card_of, count, text_of

from storage.models import Case

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "commands"))
from takeover_files import clean_rows, csv_bytes, xlsx_bytes  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::Warning:microsoft_teams")


async def _send(teams: TeamsServer, connector: FakeConnector, text: str, name: str, data: bytes) -> str:
    activity = teams.activity(ADMIN, text=text, textFormat="plain", attachments=[connector.attach(name, data)])
    response = await teams.post(activity)
    assert response.status_code == 200, response.text
    answers = [a for a in connector.posted(ADMIN.chat) if a.get("replyToId") == activity["id"]]
    assert len(answers) == 1
    return text_of(card_of(answers[0]))


async def test_an_attached_spreadsheet_is_checked_then_taken_over(teams: TeamsServer,
                                                                 connector: FakeConnector) -> None:
    bare = await teams.say(ADMIN, "unit import cases")
    hint = [a for a in connector.posted(ADMIN.chat) if a.get("replyToId") == bare]
    assert "Attach the spreadsheet" in text_of(card_of(hint[0]))
    dry = await _send(teams, connector, "unit import cases check=yes", "sager.xlsx", xlsx_bytes(clean_rows()))
    assert "Nothing is stored yet" in dry and count(teams.svc, Case) == 0
    done = await _send(teams, connector, "unit import cases", "sager.csv", csv_bytes(clean_rows()))
    assert "6 cases taken over" in done and "delete the file" in done
    assert count(teams.svc, Case) == 6
    bad = await _send(teams, connector, "unit import cases", "notes.csv", b"hello;world\n")
    assert "do not match the template" in bad and count(teams.svc, Case) == 6
