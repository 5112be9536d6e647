"""LOG_FORMAT=json: every line a JSON object with the request's context, and the error id of a crash reply in
the line that logged the crash."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path

from fake_slack import FakeSlack
from slack_http import AppServer, wait_until
from sqlalchemy import text

from storage.clock import FixedClock
from storage.db import migrate
from storage.logs import JsonFormatter
from storage.settings import Settings
from tests.conftest import make_svc


async def test_a_crash_reply_names_the_error_id_of_a_json_log_line_with_the_requests_context(
        slack_settings: Settings, clock: FixedClock, fake_slack: FakeSlack, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/broken.db"
    migrate(url)
    svc = make_svc(slack_settings.model_copy(update={"database_url": url}), clock)
    with svc.engine.begin() as conn:
        conn.execute(text('DROP TABLE cases'))  # a bug's stand-in: `case list` now fails inside the use case
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        async with AppServer(svc, fake_slack) as srv:
            assert (await srv.slash("/case", "list", response_key="crash")).status_code == 200
            replies = await wait_until(lambda: fake_slack.responses_to("crash"), what="crash reply")
    finally:
        root.removeHandler(handler)
        svc.engine.dispose()
    shown = re.search(r"\b([0-9a-f]{8})\b", json.dumps(replies[0]))
    assert shown, replies[0]
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    crash = [line for line in lines if line["error_id"] == shown.group(1)]
    assert len(crash) == 1
    assert crash[0]["level"] == "error" and crash[0]["logger"] == "commands.router"
    assert (crash[0]["platform"], crash[0]["command"]) == ("slack", "case list")
    assert crash[0]["request_id"] and crash[0]["time"].endswith("+00:00")
    assert set(crash[0]) >= {"time", "level", "logger", "message", "error_id", "request_id", "platform", "command"}
