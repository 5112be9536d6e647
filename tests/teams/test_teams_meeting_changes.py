"""A series changed from Teams over real HTTP (fake connector): the secretariat edits the meeting day, moves a
meeting and ends the series in the 1:1 chat; a member's DM offers the calendar update, and the file saved
through the consent card is the series' METHOD:REQUEST with the same UID as before and a higher SEQUENCE."""

from __future__ import annotations

import json
from typing import Any

import pytest
from icalendar import Calendar
from sqlmodel import Session, select
from teams_fakes import FakeConnector
from teams_kit import ADMIN, TeamsServer, action, card_of, text_of, user, wait_until

from bot.teams import render
from storage.models import OutboxMessage

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::Warning:microsoft_teams")
BO = user(0xB0, "Bo Berg")
SERIES = ('meeting series add name="Koordineringsmøde" rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH" time=09:00 '
          "duration=90m holidays=skip")


async def answer(teams: TeamsServer, connector: FakeConnector, text: str) -> str:
    asked = await teams.say(ADMIN, text)
    found = await wait_until(lambda: [a for a in connector.posted(ADMIN.chat) if a.get("replyToId") == asked],
                             what=f"the answer to {text!r}")
    return text_of(card_of(found[0])) if found[0].get("attachments") else found[0].get("text", "")


async def test_a_series_edited_moved_and_ended_from_teams_updates_the_members_calendar(
        teams: TeamsServer, connector: FakeConnector, clock: Any) -> None:
    assert (await teams.post(teams.activity(BO, kind="installationUpdate", action="add"))).status_code == 200
    await teams.say(ADMIN, f"unit add {BO.aad} role=member org=SSP")
    await answer(teams, connector, SERIES)
    edited = await answer(teams, connector, 'meeting series edit S-1 rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"')
    assert "S-1" in edited and "every other Tuesday at 09:00" in edited
    assert "M-2026-004" in await answer(teams, connector, 'meeting move M-2026-004 when="2026-12-09 10:00"')
    assert "1 Feb 2027" in await answer(teams, connector, "meeting series end S-1 from=2027-02-01")
    assert "Usage" in await answer(teams, connector, "meeting series end S-7")

    def unsent() -> list[OutboxMessage]:
        with Session(teams.svc.engine) as session:
            return list(session.exec(select(OutboxMessage).where(OutboxMessage.state != "sent")))

    await wait_until(lambda: not unsent(), what="every DM delivered")
    updates = [a for a in connector.posted(BO.chat) if "changes from" in json.dumps(a, ensure_ascii=False)]
    assert len(updates) == 1
    await teams.click(BO, action(card_of(updates[0]), "Save series-1.ics"))
    [ask] = [a for activity in connector.posted(BO.chat) for a in activity.get("attachments") or []
             if a.get("contentType") == render.FILE_CONSENT_TYPE]
    status = (await teams.post(teams.activity(BO, kind="invoke", name="fileConsent/invoke", value={
        "type": "fileUpload", "action": "accept", "context": ask["content"]["acceptContext"],
        "uploadInfo": connector.upload_info("series-1.ics")}))).status_code
    assert status == 200
    cal = Calendar.from_ical(connector.uploads[0].data)
    [main] = [e for e in cal.walk("VEVENT") if not e.get("recurrence-id")]
    assert str(cal["method"]) == "REQUEST" and int(main["sequence"]) == 1
    assert str(main["uid"]).startswith("series-1.")
