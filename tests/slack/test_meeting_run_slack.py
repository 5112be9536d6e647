"""A whole meeting run from the published agenda's buttons in Slack — a decision by its form, a postponed case,
attendance ticked off the invited, closed from the secretariat's view — leaves the same minutes and follow-ups
as the typed run."""

from __future__ import annotations

from typing import Any

from fake_slack import FakeSlack
from slack_http import UNIT_CHANNEL, AppServer, block_action, multi, select, view_submission, wait_until
from slack_sdk.models.views import View
from test_slash_commands import all_text, reply_to

from storage.clock import FixedClock
from tests.conftest import make_settings, make_svc
from tests.meetings.runkit import ADMIN, DECISION, outcome, setup, typed, typed_run


def buttons(fake: FakeSlack, channel: str) -> dict[str, dict[str, Any]]:
    found = {}
    for message in fake.posted(channel):
        for block in message.get("blocks") or []:
            for element in block.get("elements") or []:
                if element.get("type") == "button":
                    found[element["value"]] = element
    return found


async def click(server: AppServer, fake: FakeSlack, element: dict[str, Any], key: str) -> None:
    await server.interaction(block_action(element["value"], element["action_id"],
                                          response_url=fake.response_url(key)))


async def opened(fake: FakeSlack, before: int) -> dict[str, Any]:
    calls = await wait_until(lambda: fake.calls_to("views.open")[before:], what="views.open")
    view = calls[0].data["view"]
    View(**view).validate_json()
    return view


async def test_a_meeting_run_from_the_agenda_buttons_equals_the_typed_run(
        server: AppServer, fake_slack: FakeSlack, clock: FixedClock, second_db_url: str) -> None:
    for n, line in enumerate(setup()):
        group, _, rest = line.partition(" ")
        await server.slash(f"/{group}", rest, response_key=f"setup{n}")
        assert "went wrong" not in all_text(await reply_to(fake_slack, f"setup{n}"))
    await server.slash("/agenda", "publish M-2026-001", response_key="publish")
    await reply_to(fake_slack, "publish")
    agenda = await wait_until(lambda: buttons(fake_slack, UNIT_CHANNEL).get("minutes KE-2026-0001 M-2026-001"),
                              what="the agenda's buttons")

    before = len(fake_slack.calls_to("views.open"))
    await click(server, fake_slack, agenda, "decide")
    view = await opened(fake_slack, before)
    blocks = {b["block_id"]: b["element"] for b in view["blocks"] if b.get("type") == "input"}
    assert blocks["due"]["type"] == "datepicker" and blocks["followup"]["type"] == "checkboxes"
    assert blocks["owner"]["type"] == "static_select"
    wrong = await server.interaction(view_submission(view, {
        "text": {"type": "plain_text_input", "value": ""}, "owner": select(""),
        "due": {"type": "datepicker", "selected_date": "2026-01-01"},
        "followup": {"type": "checkboxes", "selected_options": [{"value": "yes"}]}}))
    assert wrong.json()["response_action"] == "errors" and set(wrong.json()["errors"]) >= {"text"}
    ok = await server.interaction(view_submission(view, {
        "text": {"type": "plain_text_input", "value": DECISION}, "owner": select("USSP"),
        "due": {"type": "datepicker", "selected_date": "2026-12-20"},
        "followup": {"type": "checkboxes", "selected_options": [{"value": "yes"}]}}))
    assert ok.status_code == 200 and not ok.content
    assert "KE-2026-0001" in all_text(await reply_to(fake_slack, "decide"))

    await click(server, fake_slack, buttons(fake_slack, UNIT_CHANNEL)["agenda postpone M-2026-001 KE-2026-0002"],
                "postpone")
    assert "M-2026-002" in all_text(await reply_to(fake_slack, "postpone"))

    before = len(fake_slack.calls_to("views.open"))
    await click(server, fake_slack, buttons(fake_slack, UNIT_CHANNEL)["meeting attendance M-2026-001"], "present")
    view = await opened(fake_slack, before)
    present = next(b for b in view["blocks"] if b.get("block_id") == "present")["element"]
    assert {o["value"] for o in present["options"]} >= {ADMIN, "USSP", "UPOL"}  # the invited, as a checklist
    await server.interaction(view_submission(view, {"present": multi(ADMIN, "USSP")}))
    assert "Sara SSP" in all_text(await reply_to(fake_slack, "present"))

    await click(server, fake_slack, buttons(fake_slack, UNIT_CHANNEL)["meeting run M-2026-001"], "view")
    status = await reply_to(fake_slack, "view")
    assert "2 of 2 cases dealt with" in all_text(status)
    close = next(e for b in status["blocks"] for e in b.get("elements") or []
                 if e.get("value") == "meeting close M-2026-001")
    await click(server, fake_slack, close, "close")
    assert "M-2026-001 is closed" in all_text(await reply_to(fake_slack, "close"))

    by_hand = make_svc(make_settings(second_db_url, admin_users=(ADMIN,)), clock)
    typed(by_hand, *setup(), "agenda publish M-2026-001", *typed_run())
    done = outcome(server.svc)
    assert done == outcome(by_hand)
    assert f"{DECISION} — responsible: Sara SSP" in done["minutes"] and "Present: " in done["minutes"]
    assert "KE-2026-0002: postponed to M-2026-002" in done["minutes"]
    by_hand.engine.dispose()
