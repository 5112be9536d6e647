"""Issue 5 through Slack: a reminder DM with its four buttons; Done clicked in Slack updates the DM in place."""

from __future__ import annotations

from datetime import UTC, datetime

from fake_slack import FakeSlack
from slack_http import AppServer, block_action, wait_until
from test_buttons_and_home import button
from test_slash_commands import reply_to

from scheduler.jobs.followups import sweep


async def test_reminder_dm_buttons_work_and_done_updates_the_dm(server: AppServer, fake_slack: FakeSlack) -> None:
    await server.slash("/unit", "add <@UOWNER> role=member org=SOF", response_key="add")
    await reply_to(fake_slack, "add")
    await server.slash("/concern", "new severity=normal track=adult age=25+ source=police district=Valby "
                       'basis=rpl115 summary="Deler propaganda"', response_key="c")
    await reply_to(fake_slack, "c")
    await server.slash("/followup", 'add KE-2026-0001 due="2026-11-24 09:00" "Ring til skolen"', user="UOWNER",
                       response_key="f")
    assert "F-2" in str(await reply_to(fake_slack, "f"))
    result = sweep(server.svc, datetime(2026, 11, 24, 8, 30, tzinfo=UTC))  # Tuesday 09:30 in Copenhagen
    assert result.reminded == 1
    await wait_until(lambda: len(fake_slack.posted("DUOWNER")) == 2, what="welcome and reminder DMs")
    dm = fake_slack.posted("DUOWNER")[1]
    assert "Ring til skolen" in str(dm)
    labels = [e["text"]["text"] for b in dm["blocks"] for e in b.get("elements", []) if e.get("type") == "button"]
    assert labels == ["Done", "Snooze 1 day", "Snooze 1 week", "Open case"]
    done = button(dm, "koord.followup.done")
    assert done["value"] == "followup done F-2"
    await server.interaction(block_action(done["value"], done["action_id"], user="UOWNER", channel="DUOWNER",
                                          response_url=fake_slack.response_url("done")))
    assert "F-2" in str(await reply_to(fake_slack, "done"))
    update = (await wait_until(lambda: fake_slack.calls_to("chat.update"), what="DM update"))[0].data
    assert update["channel"] == "DUOWNER" and "done" in update["text"].lower()
    assert len(fake_slack.posted("DUOWNER")) == 2  # updated in place, not a third DM
    assert sweep(server.svc, datetime(2026, 11, 25, 8, 30, tzinfo=UTC)).reminded == 0
