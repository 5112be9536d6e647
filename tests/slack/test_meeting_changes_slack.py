"""`/meeting series edit`, `/meeting move` and `/meeting series end` end to end over real HTTP against the fake
Slack Web API: the secretariat's private answer, and the member's calendar updates as uploaded .ics files —
a REQUEST per change on the series' one UID, a CANCEL per dropped meeting."""

from __future__ import annotations

import json
from typing import Any

from fake_slack import FakeSlack
from icalendar import Calendar
from slack_http import AppServer, wait_until
from test_slash_commands import all_text, reply_to


def member_calendars(fake: FakeSlack) -> list[Calendar]:
    """Every .ics uploaded into Anna's DM."""
    ids = [f["id"] for c in fake.calls_to("files.completeUploadExternal") if c.data.get("channel_id") == "DUANN"
           for f in (c.data["files"] if isinstance(c.data["files"], list) else json.loads(c.data["files"]))]
    return [Calendar.from_ical(fake.uploads[i]) for i in ids if fake.uploads.get(i, b"").startswith(b"BEGIN:VCALENDAR")]


async def test_a_series_changes_day_moves_a_meeting_and_ends_through_slack(
        server: AppServer, fake_slack: FakeSlack, clock: Any) -> None:
    await server.slash("/unit", "add <@UANN|ann> role=member org=SSP", response_key="add")
    await reply_to(fake_slack, "add")
    await server.slash("/meeting", 'series add name="Koordineringsmøde" rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH" '
                                   "time=09:00 duration=90m holidays=skip", response_key="series")
    await reply_to(fake_slack, "series")
    await server.slash("/meeting", 'series edit S-1 rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"', response_key="edit")
    answer = all_text(await reply_to(fake_slack, "edit"))
    assert "S-1" in answer and "Tuesday" in answer and "M-2026-001" in answer  # 26 Nov is dropped
    await server.slash("/meeting", "series list", response_key="list")
    assert "every other Tuesday at 09:00" in all_text(await reply_to(fake_slack, "list"))
    await server.slash("/meeting", 'move M-2026-004 when="2026-12-09 10:00"', response_key="move")
    assert "M-2026-004" in all_text(await reply_to(fake_slack, "move"))
    await server.slash("/meeting", "series end S-1 from=2027-01-01", response_key="end")
    assert "1 Jan 2027" in all_text(await reply_to(fake_slack, "end"))
    await server.slash("/meeting", "series edit S-1 time=25:00", response_key="bad")
    bad = await reply_to(fake_slack, "bad")
    assert bad["response_type"] == "ephemeral" and "Usage" in all_text(bad)

    def methods() -> list[str]:
        return [str(c["method"]) for c in member_calendars(fake_slack)]

    await wait_until(lambda: methods().count("REQUEST") >= 3, what="Anna's three calendar updates")
    cals = member_calendars(fake_slack)
    uids = {str(e["uid"]) for c in cals if str(c["method"]) in ("REQUEST", "CANCEL") for e in c.walk("VEVENT")}
    assert len(uids) == 1  # the series' one event, updated
    assert methods().count("REQUEST") == 3 and methods().count("CANCEL") >= 2
