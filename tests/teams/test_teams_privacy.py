"""Nothing sensitive persists in Teams: answers with details open in a dialog (only invoke responses carry them),
and a proactive DM that had to carry details becomes a stub once TEAMS_DETAILS_TTL has passed — replaced by the
delivery pass of the server or the worker, from what the database remembers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from teams_fakes import FakeConnector, FakeOpenId
from teams_kit import ADMIN, TeamsServer, actions, card_of, text_of, user, wait_until
from test_teams_delivery import CONCERN, connector_for

from bot.teams import stubs
from bot.teams.delivery import deliver_pending
from scheduler.worker import tick
from storage import teams_tables
from storage.db import unit_of_work

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::Warning:microsoft_teams")
BO = user(0xB0, "Bo Berg")


def shown_rows(teams: TeamsServer) -> list[teams_tables.TeamsShown]:
    from sqlmodel import select

    with unit_of_work(teams.svc.engine) as session:
        return list(session.exec(select(teams_tables.TeamsShown)))


async def test_a_reminder_with_its_text_becomes_a_stub_after_the_ttl(
        teams: TeamsServer, connector: FakeConnector, openid: FakeOpenId, clock: Any) -> None:
    await teams.say(ADMIN, f"unit add {BO.aad} role=member org=SOF")
    assert (await teams.post(teams.activity(BO, kind="installationUpdate", action="add"))).status_code == 200
    await teams.say(BO, CONCERN)
    await teams.say(BO, 'followup add KE-2026-0001 due="2026-11-24 09:00" "Ring til skolen om Ali"')
    clock.instant = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)

    async def deliver(svc: Any) -> int:  # the worker's delivery, with a connector of its own (another process)
        return await deliver_pending(svc, connector_for(svc, openid))

    await tick(teams.svc, clock.now(), deliver)
    posted = await wait_until(lambda: [a for a in connector.posted(BO.chat) if "Ring til skolen" in json.dumps(a)],
                              what="the reminder with its text")
    activity_id = next(c.activity_id for c in connector.calls if c.body is posted[0])
    [row] = await wait_until(lambda: shown_rows(teams), what="the message remembered for its stub")
    assert row.activity_id == activity_id and row.stub_at == clock.now() + timedelta(seconds=600)
    assert row.reopen == "case show KE-2026-0001"

    clock.instant += timedelta(seconds=599)
    await tick(teams.svc, clock.now(), deliver)
    assert not [c for c in connector.updated(BO.chat) if c.activity_id == activity_id]  # not yet

    clock.instant += timedelta(seconds=2)
    await tick(teams.svc, clock.now(), deliver)
    updates = await wait_until(lambda: [c for c in connector.updated(BO.chat) if c.activity_id == activity_id],
                               what="the reminder replaced by its stub")
    stub = card_of(updates[0].body)
    assert text_of(stub).startswith("Shown at 09:00 — open again")
    assert "Ring til skolen" not in json.dumps(updates[0].body)
    reopen = actions(stub)[0]
    assert reopen["title"] == "Open again" and reopen["data"]["msteams"] == {"type": "task/fetch"}
    assert all(r.done for r in shown_rows(teams))
    answer = await teams.click(BO, reopen)  # open again: the case, in a dialog, with Bo's rights
    assert "KE-2026-0001" in text_of(answer["value"])


async def test_a_stub_is_not_retried_for_a_message_that_is_gone(teams: TeamsServer, connector: FakeConnector,
                                                               clock: Any) -> None:
    teams_tables.record_shown(teams.svc.engine, BO.aad, connector.url, BO.chat, "act-gone", "", clock.now(),
                              timedelta(seconds=60))
    connector.fail_next(1, status=404, conversation=BO.chat)
    clock.instant += timedelta(seconds=61)
    assert await stubs.replace_due(teams.svc, teams.runtime.connector) in (0, 1)
    await wait_until(lambda: all(r.done for r in shown_rows(teams)), what="a gone message is not retried")


async def test_buttons_inside_a_dialog_answer_in_the_dialog(teams: TeamsServer, connector: FakeConnector) -> None:
    await teams.say(ADMIN, CONCERN)
    case = await teams.open(ADMIN, "case show KE-2026-0001")
    assert "Bekymring" in text_of(case)
    qualify = next(a for a in actions(case) if a["title"] == "Qualify")
    assert qualify["type"] == "Action.Submit" and "msteams" not in qualify["data"]  # a task/submit
    before = len(connector.posted(ADMIN.chat))
    answer = await teams.click(ADMIN, qualify)
    assert "is being qualified" in text_of(answer["value"])
    refer = next(a for a in actions(case) if a["title"].startswith("Refer"))
    form = await teams.click(ADMIN, {**refer, "data": {k: v for k, v in refer["data"].items() if k != "msteams"}})
    assert "owner" in json.dumps(form["value"])  # the Visitér… form, in the same dialog
    assert len(connector.posted(ADMIN.chat)) == before  # nothing posted into the chat


async def test_show_on_a_channel_notice_opens_the_details_for_the_one_who_clicks(
        teams: TeamsServer, connector: FakeConnector) -> None:
    from teams_kit import UNIT_CHANNEL, action
    from test_teams_delivery import reach_unit_channel

    reach_unit_channel(teams.svc, connector)
    await teams.say(ADMIN, CONCERN)
    notice = card_of((await wait_until(lambda: connector.posted(UNIT_CHANNEL), what="the notice"))[0])
    before = len(connector.calls)
    shown = await teams.click(ADMIN, action(notice, "Show"), channel=UNIT_CHANNEL)
    assert "Bekymring" in text_of(shown["value"])  # the summary, in the dialog
    assert not [c for c in connector.calls[before:] if c.method == "POST"]  # nothing posted anywhere


async def test_the_subject_export_shows_in_a_dialog_and_its_file_is_saved_from_the_chat(
        teams: TeamsServer, connector: FakeConnector) -> None:
    from test_teams_cards import CPR, GOOD

    from bot.teams import render

    intake = await teams.open(ADMIN, "concern")
    await teams.click(ADMIN, intake["actions"][0], {**GOOD, "subject1_identifier": CPR})
    form = await teams.open(ADMIN, "subject export")
    answer = await teams.click(ADMIN, form["actions"][0], {"identifier": CPR, "purpose": "Indsigtsanmodning"})
    shown = answer["value"]
    assert "KE-2026-0001" in text_of(shown) and CPR not in json.dumps(shown)
    save = next(a for a in actions(shown) if a["title"].startswith("Save"))
    assert save["type"] == "Action.Submit" and save["data"]["koord"]["verb"] == render.FILE
    note = await teams.click(ADMIN, save)
    assert note["type"] == "application/vnd.microsoft.activity.message"
    assert note["value"] == "Allow the file in your chat with koordinator to save it."
    consent = [a for p in connector.posted(ADMIN.chat) for a in p.get("attachments") or []
               if a["contentType"] == render.FILE_CONSENT_TYPE]
    assert len(consent) == 1  # the consent card asks in the 1:1 chat; the export itself was never posted
    assert "Bekymring fra skolen" not in json.dumps([c.body for c in connector.calls])
