"""`unit import cases` in Slack: the modal's file input takes the unit's spreadsheet (XLSX or CSV); the bot
fetches it like the profile upload (files.info, the private URL with the bot token) and hands an XLSX to the
use case as binary. A dry run answers privately and stores nothing; the import answers privately too."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from fake_slack import FakeSlack
from slack_http import AppServer, select, text
from test_modals import open_form, submit
from test_slash_commands import all_text, count, reply_to

from storage.contacts import AdviceContact
from storage.models import Case

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "commands"))
from takeover_files import clean_rows, csv_bytes, xlsx_bytes  # noqa: E402


def upload(file_id: str, name: str, filetype: str) -> dict[str, Any]:
    return {"type": "file_input", "files": [{"id": file_id, "name": name, "filetype": filetype}]}


def check(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value}}


async def test_an_xlsx_uploaded_in_the_modal_is_checked_then_taken_over(server: AppServer,
                                                                        fake_slack: FakeSlack) -> None:
    view = await open_form(server, fake_slack, "/unit", "import cases", "imp")
    element = next(b["element"] for b in view["blocks"] if b.get("block_id") == "file")
    assert element["type"] == "file_input" and element["filetypes"] == ["csv", "xlsx", "txt"]
    file_id = fake_slack.add_user_file("sager.xlsx", xlsx_bytes(clean_rows()))
    assert await submit(server, view, {"file": upload(file_id, "sager.xlsx", "xlsx"), "check": check("yes")}) is None
    dry = await reply_to(fake_slack, "imp")
    assert dry["response_type"] == "ephemeral" and "Nothing is stored yet" in all_text(dry)
    assert count(server.svc, Case) == 0
    view = await open_form(server, fake_slack, "/unit", "import cases", "imp2")
    file_id = fake_slack.add_user_file("sager.csv", csv_bytes(clean_rows()))
    assert await submit(server, view, {"file": upload(file_id, "sager.csv", "csv"), "check": check("no")}) is None
    done = await reply_to(fake_slack, "imp2")
    assert "6 cases taken over" in all_text(done) and "delete the file" in all_text(done)
    assert count(server.svc, Case) == 6
    assert "010203" not in str(fake_slack.posted())


async def test_a_file_that_is_not_a_spreadsheet_is_an_error_in_the_modal(server: AppServer,
                                                                          fake_slack: FakeSlack) -> None:
    view = await open_form(server, fake_slack, "/unit", "import cases", "imp")
    file_id = fake_slack.add_user_file("notes.csv", b"hello;world\n1;2\n")
    answer = await submit(server, view, {"file": upload(file_id, "notes.csv", "csv"), "check": check("yes")})
    assert answer is not None and answer["response_action"] == "errors"
    assert "do not match the template" in answer["errors"]["file"]
    assert count(server.svc, Case) == 0


async def test_advice_without_a_case_in_a_modal(server: AppServer, fake_slack: FakeSlack) -> None:
    view = await open_form(server, fake_slack, "/concern", "advice", "adv")
    assert [b["block_id"] for b in view["blocks"] if b.get("type") == "input"] == \
        ["source", "district", "topic", "advice"]
    values = {"source": select("school"), "district": select("Valby"), "topic": select("signs"),
              "advice": text("Lærer rådgivet om tegn")}
    assert await submit(server, view, values) is None
    reply = await reply_to(fake_slack, "adv")
    assert "H-2026-0001" in all_text(reply) and count(server.svc, AdviceContact) == 1
    assert count(server.svc, Case) == 0
