"""`/agenda publish` end to end over real HTTP against the fake Slack Web API: the agenda reaches the unit
channel as one file share (Markdown and PDF) whose text carries references and categories only."""

from __future__ import annotations

import json
from typing import Any

from fake_slack import FakeSlack
from slack_http import UNIT_CHANNEL, AppServer, wait_until
from test_slash_commands import CONCERN, reply_to


async def test_agenda_publish_posts_the_agenda_with_its_exports_to_the_unit_channel(
        server: AppServer, fake_slack: FakeSlack, clock: Any) -> None:
    await server.slash("/meeting", 'series add name="Koordineringsmøde" rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH" '
                                   "time=09:00 duration=90m holidays=skip", response_key="series")
    assert "M-2026-001" in str(await reply_to(fake_slack, "series"))
    await server.slash("/concern", CONCERN, response_key="concern")
    await reply_to(fake_slack, "concern")
    await server.slash("/agenda", "publish M-2026-001", response_key="publish")
    answer = await reply_to(fake_slack, "publish")
    assert "M-2026-001" in str(answer) and "1" in str(answer)

    def shared() -> list[dict[str, Any]]:
        return [c.data for c in fake_slack.calls_to("files.completeUploadExternal")
                if c.data.get("channel_id") == UNIT_CHANNEL]

    await wait_until(shared, what="the agenda shared in the unit channel")
    comment = shared()[0]["initial_comment"]
    assert "M-2026-001" in comment and "KE-2026-0001" in comment and "Udtaler" not in comment
    files = shared()[0]["files"]
    titles = sorted(f.get("title", "") for f in (files if isinstance(files, list) else json.loads(files)))
    assert titles == ["agenda-M-2026-001.md", "agenda-M-2026-001.pdf"]
    uploads = list(fake_slack.uploads.values())
    assert any(u.startswith(b"%PDF") for u in uploads)
    assert any(b"Administration of Justice Act" in u for u in uploads)
    assert all(b"Udtaler" not in u for u in uploads)
