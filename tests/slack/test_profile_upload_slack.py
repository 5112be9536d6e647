"""`unit profile import` in Slack takes the profile as a file: the modal holds a file_input; on submission the
bot reads the file through files.info and its private URL with the bot token, and imports it with the same
validation — a full shipped profile (far past a text field's 3 000 characters) makes version 2; a bad line,
a file that is not UTF-8, too big or not YAML is answered privately in the modal, and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest
from fake_slack import FakeSlack
from slack_http import AppServer, view_submission
from test_modals import open_form, submit
from test_slash_commands import all_text, count, reply_to

from storage.profile import shipped_text
from storage.profile.tables import UnitProfileVersion


def upload(file_id: str) -> dict[str, Any]:
    return {"type": "file_input", "files": [{"id": file_id, "name": "unit-profile.yaml", "filetype": "yaml"}]}


async def test_a_full_profile_uploaded_as_a_file_makes_version_2(server: AppServer, fake_slack: FakeSlack) -> None:
    view = await open_form(server, fake_slack, "/unit", "profile import", "imp")
    element = view["blocks"][-1]["element"]
    assert element == {"type": "file_input", "action_id": "yaml", "filetypes": ["yaml", "yml", "txt"], "max_files": 1}
    profile = shipped_text("denmark-generic").encode()
    assert len(profile) > 3000
    file_id = fake_slack.add_user_file("unit-profile.yaml", profile)
    assert await submit(server, view, {"yaml": upload(file_id)}) is None  # a plain ack closes the modal
    reply = await reply_to(fake_slack, "imp")
    assert reply["response_type"] == "ephemeral" and "version 2" in all_text(reply)
    assert [c.data["file"] for c in fake_slack.calls_to("files.info")] == [file_id]
    assert fake_slack.downloads == [(file_id, "Bearer xoxb-test")]
    assert count(server.svc, UnitProfileVersion) == 2


async def _refused(server: AppServer, fake: FakeSlack, content: bytes | None) -> str:
    view = await open_form(server, fake, "/unit", "profile import", "imp")
    file_id = fake.add_user_file("unit-profile.yaml", content) if content is not None else "F0MISSING"
    answer = await submit(server, view, {"yaml": upload(file_id)})
    assert answer is not None and answer["response_action"] == "errors", answer
    assert count(server.svc, UnitProfileVersion) == 0
    assert not fake.posted()  # nothing announced anywhere: the error is in the user's own modal
    return answer["errors"]["yaml"]


@pytest.mark.parametrize("content, expected", [
    (shipped_text("copenhagen").replace("responsible: VINK", "responsible: NOPE", 1).encode(),
     "`NOPE` is neither a role"),
    (b"orgs: [unclosed\n  - code: SSP\n", "line 2"),
    ("name: ø\n".encode("latin-1") + b"\xff\xfe", "not UTF-8 text"),
    (b"name: x\n" + b"# padding\n" * 8000, "too big: at most 64 KB"),
    (None, "could not be fetched"),
])
async def test_a_bad_upload_is_a_private_error_in_the_modal_and_nothing_changes(
        server: AppServer, fake_slack: FakeSlack, content: bytes | None, expected: str) -> None:
    error = await _refused(server, fake_slack, content)
    assert expected in error and "Traceback" not in error


async def test_the_profile_line_is_named(server: AppServer, fake_slack: FakeSlack) -> None:
    bad = shipped_text("copenhagen").replace("due: 5wd", "due: -5d", 1)
    line = next(n for n, text in enumerate(bad.splitlines(), start=1) if "due: -5d" in text)
    error = await _refused(server, fake_slack, bad.encode())
    assert f"line {line}" in error and "cannot be negative" in error


async def test_an_empty_file_input_asks_for_a_file(server: AppServer, fake_slack: FakeSlack) -> None:
    view = await open_form(server, fake_slack, "/unit", "profile import", "imp")
    response = await server.interaction(view_submission(view, {"yaml": {"type": "file_input", "files": []}}))
    assert response.json() == {"response_action": "errors", "errors": {"yaml": "Choose a file."}}
    assert fake_slack.calls_to("files.info") == []


def test_the_bot_token_goes_only_to_slack_s_file_host_or_the_api_s_own_host() -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.slack.uploads import _trusted

    real = AsyncWebClient(token="xoxb-x")  # https://slack.com/api/
    assert _trusted("https://files.slack.com/files-pri/T1-F1/p.yaml", real)
    assert not _trusted("http://files.slack.com/files-pri/T1-F1/p.yaml", real)
    assert not _trusted("https://files.slack.com.evil.example/p.yaml", real)
    assert not _trusted("https://slack.com/files-pri/p.yaml", real)
    fake = AsyncWebClient(token="xoxb-x", base_url="http://127.0.0.1:5000/api/")
    assert _trusted("http://127.0.0.1:5000/files-pri/F1/p.yaml", fake)
    assert not _trusted("http://127.0.0.1:6000/files-pri/F1/p.yaml", fake)
