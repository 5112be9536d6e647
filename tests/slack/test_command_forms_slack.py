"""Every command's form on Slack, generated from the registry: the bare slash command opens a modal (valid Block
Kit, checked with slack_sdk's models), and a submission with the required fields left empty comes back with an
inline error on every one of them at once — nothing stored."""

from __future__ import annotations

from typing import Any

import pytest
from fake_slack import FakeSlack
from slack_http import AppServer, view_submission, wait_until
from slack_sdk.models.views import View
from test_slash_commands import all_text, reply_to

from tests.commands.test_command_forms import bare, commands_needing_a_form, counts
from tests.meetings.runkit import setup

EMPTY = {"static_select": {"type": "static_select", "selected_option": None},
         "multi_static_select": {"type": "multi_static_select", "selected_options": []},
         "users_select": {"type": "users_select", "selected_user": None},
         "datepicker": {"type": "datepicker", "selected_date": None},
         "timepicker": {"type": "timepicker", "selected_time": None},
         "checkboxes": {"type": "checkboxes", "selected_options": []}}


async def prepared(server: AppServer, fake: FakeSlack) -> None:
    advice = 'concern advice source=school topic=signs "Lærer spurgte til tegn"'  # H-2026-0001, to promote
    for n, line in enumerate((*setup(), advice)):
        group, _, rest = line.partition(" ")
        await server.slash(f"/{group}", rest, response_key=f"setup{n}")
        assert "went wrong" not in all_text(await reply_to(fake, f"setup{n}"))


@pytest.mark.parametrize("name", [c.name for c in commands_needing_a_form()])
async def test_the_bare_slash_command_opens_a_modal_that_reports_every_missing_field(
        server: AppServer, fake_slack: FakeSlack, name: str) -> None:
    await prepared(server, fake_slack)
    group, _, rest = bare(next(c for c in commands_needing_a_form() if c.name == name)).partition(" ")
    before = len(fake_slack.calls_to("views.open"))
    await server.slash(f"/{group}", rest, response_key="bare")
    view = (await wait_until(lambda: fake_slack.calls_to("views.open")[before:], what="views.open"))[0].data["view"]
    View(**view).validate_json()
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    required = {b["block_id"] for b in inputs if not b["optional"] and b["element"]["type"] != "file_input"}
    values: dict[str, Any] = {b["block_id"]: EMPTY.get(b["element"]["type"], {"type": "plain_text_input",
                                                                               "value": None}) for b in inputs}
    stored = counts(server.svc)
    answer = await server.interaction(view_submission(view, values))
    if not required:
        return
    body = answer.json()
    assert body["response_action"] == "errors" and required <= set(body["errors"]), body
    assert counts(server.svc) == stored
