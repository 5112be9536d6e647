"""Buttons run their command as the clicking user; Refer… opens a modal; App Home shows what needs attention."""

from __future__ import annotations

import asyncio
from typing import Any

from fake_slack import FakeSlack
from slack_http import AppServer, block_action, select, view_submission, wait_until
from slack_sdk.models.views import View
from sqlmodel import Session
from sqlmodel import select as sql_select
from test_slash_commands import CONCERN, SUMMARY, all_text, reply_to, valid_blocks

from storage.models import AuditEntry, Case


async def new_case(server: AppServer, fake: FakeSlack, key: str = "new") -> dict[str, Any]:
    await server.slash("/concern", CONCERN, response_key=key)
    return await reply_to(fake, key)


def button(body: dict[str, Any], action_prefix: str) -> dict[str, Any]:
    for block in body["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id", "").startswith(action_prefix):
                return element
    raise AssertionError(f"no button {action_prefix}")


async def test_show_button_answers_the_clicker_privately_with_details(server: AppServer,
                                                                     fake_slack: FakeSlack) -> None:
    show = button(await new_case(server, fake_slack), "koord.case.show")
    assert show["value"] == "case show KE-2026-0001"
    await server.interaction(block_action(show["value"], show["action_id"],
                                          response_url=fake_slack.response_url("click")))
    reply = await reply_to(fake_slack, "click")
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert SUMMARY in all_text(reply)  # details only privately, after the access check …
    with Session(server.svc.engine) as session:  # … and audited
        assert session.exec(sql_select(AuditEntry).where(AuditEntry.action == "case.view")).first() is not None


async def test_a_button_clicked_by_a_non_member_is_refused(server: AppServer, fake_slack: FakeSlack) -> None:
    show = button(await new_case(server, fake_slack), "koord.case.show")
    await server.interaction(block_action(show["value"], show["action_id"], user="USTRANGER",
                                          response_url=fake_slack.response_url("stranger")))
    text = all_text(await reply_to(fake_slack, "stranger"))
    assert "not a member" in text and SUMMARY not in text


async def test_refer_button_opens_a_modal_whose_submission_refers_the_case(server: AppServer,
                                                                          fake_slack: FakeSlack) -> None:
    refer = button(await new_case(server, fake_slack), "koord.case.refer")
    await server.slash("/case", "qualify KE-2026-0001 level=preventive", response_key="q")
    await reply_to(fake_slack, "q")
    await server.interaction(block_action(refer["value"], refer["action_id"],
                                          response_url=fake_slack.response_url("refer")))
    view = (await wait_until(lambda: fake_slack.calls_to("views.open"), what="refer modal"))[0].data["view"]
    View(**view).validate_json()
    assert view["callback_id"] == "koord.form" and '"form":"case.refer"' in view["private_metadata"]
    owner = next(b for b in view["blocks"] if b.get("block_id") == "owner")["element"]
    assert owner["type"] == "static_select" and owner["options"][0]["value"] == "UADMIN"  # the unit's members
    response = await server.interaction(view_submission(view, {"to": select("SOF"), "owner": select("")}))
    assert response.status_code == 200
    assert "referred to SOF" in all_text(await reply_to(fake_slack, "refer"))
    with Session(server.svc.engine) as session:
        assert session.exec(sql_select(Case)).one().state == "referred"


async def test_a_button_in_app_home_answers_by_dm(server: AppServer, fake_slack: FakeSlack) -> None:
    await new_case(server, fake_slack)
    await server.interaction(block_action("case list", "koord.case.list.0", channel=None))
    dm = await wait_until(lambda: fake_slack.posted("DUADMIN"), what="DM reply")
    valid_blocks(dm[0])
    assert "KE-2026-0001" in all_text(dm[0])


async def test_app_home_shows_open_cases_deadlines_and_for_leads_overdue_visitations(
        server: AppServer, fake_slack: FakeSlack, clock: Any) -> None:
    await new_case(server, fake_slack)
    clock.advance(hours=49)  # past the 48 h visitation deadline of a `high` concern
    await server.event({"type": "app_home_opened", "user": "UADMIN", "channel": "DUADMIN", "tab": "home"})
    call = (await wait_until(lambda: fake_slack.calls_to("views.publish"), what="views.publish"))[0]
    assert call.data["user_id"] == "UADMIN"
    view = call.data["view"]
    View(**view).validate_json()
    text = all_text(view)
    assert view["type"] == "home" and "Your open cases (1)" in text and "Overdue visitations (1)" in text
    assert "(overdue by 1 hour)" in text and SUMMARY not in text
    assert "Targets 2026" in text and "Visited within 24/48/72 hours: 0/1 = 0.0% (target = 100%) — not met" in text


async def test_app_home_for_a_stranger_says_how_to_get_access(server: AppServer, fake_slack: FakeSlack) -> None:
    await server.event({"type": "app_home_opened", "user": "USTRANGER", "channel": "D1", "tab": "home"})
    call = (await wait_until(lambda: fake_slack.calls_to("views.publish"), what="views.publish"))[0]
    assert "not a member" in all_text(call.data["view"])
    await server.event({"type": "app_home_opened", "user": "USTRANGER", "channel": "D1", "tab": "messages"})
    await asyncio.sleep(0.3)
    assert len(fake_slack.calls_to("views.publish")) == 1
