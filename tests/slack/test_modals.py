"""Modals over real HTTP: the intake and lookup forms, inline validation errors, and nothing half-stored."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fake_slack import FakeSlack
from slack_http import AppServer, multi, select, text, view_submission, wait_until
from slack_sdk.models.views import View
from sqlmodel import Session
from sqlmodel import select as sql_select
from test_slash_commands import all_text, count, reply_to

from storage.models import AuditEntry, Case, OutboxMessage, Subject

GOOD = {"severity": select("high"), "track": select("child"), "source": select("school"),
        "district": select("Nørrebro"), "basis": select("rpl115"), "indicators": multi("isolation", "travel_intent"),
        "received_date": {"type": "datepicker", "selected_date": None},
        "received_time": {"type": "timepicker", "selected_time": None},
        "summary": text("Bekymring fra skolen om isolation"),
        "subject1_age": select("15-17"), "subject1_identifier": text(None)}


async def open_form(server: AppServer, fake: FakeSlack, command: str, text_: str, key: str,
                    user: str = "UADMIN") -> dict[str, Any]:
    before = len(fake.calls_to("views.open"))
    await server.slash(command, text_, response_key=key, user=user)
    calls = await wait_until(lambda: fake.calls_to("views.open")[before:], what="views.open")
    view = calls[0].data["view"]
    View(**view).validate_json()
    return view


async def submit(server: AppServer, view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any] | None:
    response = await server.interaction(view_submission(view, values))
    assert response.status_code == 200
    return response.json() if response.content else None


async def test_intake_modal_success_registers_the_case_and_replies_privately(server: AppServer,
                                                                            fake_slack: FakeSlack) -> None:
    view = await open_form(server, fake_slack, "/concern", "", "intake")
    values = {**GOOD, "subject1_identifier": text("010203-1234"), "subject2_age": select("0-14")}
    assert await submit(server, view, values) is None  # a plain ack closes the modal
    reply = await reply_to(fake_slack, "intake")
    assert reply["response_type"] == "ephemeral" and "KE-2026-0001" in all_text(reply)
    with Session(server.svc.engine) as session:
        case = session.exec(sql_select(Case)).one()
        subjects = session.exec(sql_select(Subject)).all()
    assert case.indicators == "isolation,travel_intent" and case.district == "Nørrebro"
    assert sorted(s.linked for s in subjects) == [False, True]
    notice = all_text((await wait_until(lambda: fake_slack.posted("C0UNIT"), what="notice"))[0])
    assert "isolation" not in notice.lower() and "010203" not in notice


@pytest.mark.parametrize("change, block", [
    ({"severity": select("")}, "severity"),
    ({"summary": text("")}, "summary"),
    ({"subject1_age": select("")}, "subject1_age"),
    ({"summary": text("Faderen har CPR 010203-1234")}, "summary"),
    ({"summary": text("skriv til far@example.dk")}, "summary"),
    ({"subject2_identifier": text("010203-1234")}, "subject2_age"),
    ({"subject1_identifier": text("Ole")}, "subject1_identifier"),
    ({"received_date": {"type": "datepicker", "selected_date": "2099-01-01"},  # pickers (issue 22), in the future
      "received_time": {"type": "timepicker", "selected_time": "10:00"}}, "received_date"),
    ({"received_date": {"type": "datepicker", "selected_date": "2026-11-20"}}, "received_time"),  # the day's time
])
async def test_intake_validation_errors_come_back_inline_and_nothing_is_stored(
        server: AppServer, fake_slack: FakeSlack, change: dict[str, Any], block: str) -> None:
    view = await open_form(server, fake_slack, "/concern", "", "intake")
    answer = await submit(server, view, {**GOOD, **change})
    assert answer is not None and answer["response_action"] == "errors"
    assert len(answer["errors"]) == 1 and next(iter(answer["errors"])) in block.split("|")
    assert "010203" not in json.dumps(answer)  # the error names what was found, never the value
    assert count(server.svc, Case) == 0 and count(server.svc, OutboxMessage) == 0
    assert not fake_slack.responses_to("intake")


async def test_the_intake_modal_takes_the_received_day_and_time_from_pickers(server: AppServer,
                                                                            fake_slack: FakeSlack) -> None:
    view = await open_form(server, fake_slack, "/concern", "", "intake")
    elements = {b["block_id"]: b["element"]["type"] for b in view["blocks"] if b["type"] == "input"}
    assert (elements["received_date"], elements["received_time"]) == ("datepicker", "timepicker")
    picked = {"received_date": {"type": "datepicker", "selected_date": "2026-11-20"},
              "received_time": {"type": "timepicker", "selected_time": "09:30"}}
    assert await submit(server, view, {**GOOD, **picked}) is None
    assert "KE-2026-0001" in all_text(await reply_to(fake_slack, "intake"))
    with Session(server.svc.engine) as session:
        received = session.exec(sql_select(Case)).one().received_at
    assert received.astimezone(ZoneInfo("Europe/Copenhagen")).strftime("%Y-%m-%d %H:%M") == "2026-11-20 09:30"


async def test_lookup_modal_requires_a_purpose_and_audits_the_lookup(server: AppServer,
                                                                    fake_slack: FakeSlack) -> None:
    view = await open_form(server, fake_slack, "/concern", "lookup", "lookup")
    blocks = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert blocks["purpose"]["optional"] is False and blocks["identifier"]["label"]["text"].startswith("🔒")
    answer = await submit(server, view, {"identifier": text("010203-1234"), "purpose": text("")})
    assert answer is not None and list(answer["errors"]) == ["purpose"]
    assert await submit(server, view, {"identifier": text("010203-1234"), "purpose": text("Møde i morgen")}) is None
    assert "no cases" in all_text(await reply_to(fake_slack, "lookup"))
    with Session(server.svc.engine) as session:
        entry = session.exec(sql_select(AuditEntry).where(AuditEntry.action == "concern.lookup")).one()
    assert entry.result == "not_found" and "010203" not in entry.detail


async def test_a_form_submitted_by_an_unknown_user_is_refused_and_stores_nothing(
        server: AppServer, fake_slack: FakeSlack) -> None:
    view = await open_form(server, fake_slack, "/concern", "", "intake")
    response = await server.interaction(view_submission(view, GOOD, user="USTRANGER"))
    assert response.status_code == 200
    assert "not a member" in all_text(await reply_to(fake_slack, "intake"))
    assert count(server.svc, Case) == 0
