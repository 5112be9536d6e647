"""The server: health, Socket Mode, and `python -m bot serve` as an operator runs it."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_slack import FakeSlack
from slack_http import SIGNING_SECRET, AppServer, wait_until
from test_slash_commands import CONCERN, SUMMARY, all_text, reply_to

from bot.server import serve
from bot.work import Work
from commands.reply import Invocation
from commands.router import dispatch
from storage.settings import Settings
from tests.conftest import make_svc

# Written before work procedures: its cases close without ticking checklist steps (or it counts reminders
# and agenda items that steps would add); procedures have their own tests (tests/profile/test_steps.py).
pytestmark = pytest.mark.procedures_off

ROOT = Path(__file__).resolve().parents[2]


async def test_healthz_is_cheap_and_readyz_reports_database_and_schema(server: AppServer) -> None:
    response = await server.http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "slack": "http", "teams": "off"}
    ready = await server.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok", "schema": "current"}


@pytest.mark.parametrize("overrides, message", [
    ({"slack_signing_secret": None}, "SLACK_SIGNING_SECRET is required"),
    ({"slack_bot_token": None}, "SLACK_BOT_TOKEN"),
    ({"slack_bot_token": None, "slack_signing_secret": None}, "Nothing to serve"),
    ({"pseudonym_key": None, "data_key": None}, "PSEUDONYM_KEY and DATA_KEY are required"),
])
def test_serve_refuses_to_start_with_a_clear_message(slack_settings: Settings, capsys: pytest.CaptureFixture[str],
                                                     overrides: dict[str, Any], message: str) -> None:
    assert serve(slack_settings.model_copy(update=overrides)) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


async def test_socket_mode_serves_slash_commands_without_the_http_endpoint(
        slack_settings: Settings, fake_slack: FakeSlack, clock: Any) -> None:
    svc = make_svc(slack_settings.model_copy(update={"slack_app_token": "xapp-test", "slack_signing_secret": None}),
                   clock)
    async with AppServer(svc, fake_slack) as srv:
        assert (await srv.http.post("/slack/events")).status_code == 404
        assert (await srv.http.get("/healthz")).json()["slack"] == "socket"
        await asyncio.wait_for(fake_slack.socket_connected.wait(), 5)
        payload = {"command": "/concern", "text": CONCERN, "user_id": "UADMIN", "user_name": "admin",
                   "channel_id": "C0UNIT", "team_id": "T0FAKE", "response_url": fake_slack.response_url("sm"),
                   "trigger_id": "trigger.sm"}
        await fake_slack.socket_send({"envelope_id": "env-1", "type": "slash_commands",
                                      "accepts_response_payload": True, "payload": payload})
        await wait_until(lambda: "env-1" in fake_slack.socket_acks, what="socket ack")
        assert "KE-2026-0001" in all_text(await reply_to(fake_slack, "sm"))
        await wait_until(lambda: fake_slack.posted("C0UNIT"), what="unit notice")
    svc.engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """`python -m bot serve` as a subprocess, ready on a free port; `srv` signs requests to it."""

    def __init__(self, slack_settings: Settings, fake_slack: FakeSlack, **env: str) -> None:
        self.port = _free_port()
        self.env = {**os.environ, "DATABASE_URL": slack_settings.database_url, "SLACK_BOT_TOKEN": "xoxb-test",
                    "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": fake_slack.base_url,
                    "PSEUDONYM_KEY": slack_settings.pseudonym_key or "", "DATA_KEY": slack_settings.data_key or "",
                    "ADMIN_USERS": "UADMIN", "PORT": str(self.port), "BOT_LANGUAGE": "en", "PYTHONPATH": str(ROOT),
                    **env}
        self.env.pop("SLACK_APP_TOKEN", None)
        self.fake = fake_slack
        self.err = b""

    async def __aenter__(self) -> AppServer:
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=self.env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}")
        deadline = time.monotonic() + 20
        while True:
            try:
                if (await self.http.get("/healthz")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert self.proc.poll() is None and time.monotonic() < deadline, "server did not start"
            await asyncio.sleep(0.1)
        srv = AppServer.__new__(AppServer)  # only its request signing, against the subprocess
        srv.http, srv.fake = self.http, self.fake
        return srv

    async def __aexit__(self, *_exc: object) -> None:
        await self.http.aclose()
        self.proc.terminate()
        _out, self.err = self.proc.communicate(timeout=10)


async def test_python_m_bot_serve_end_to_end(slack_settings: Settings, fake_slack: FakeSlack) -> None:
    """The acceptance run: the real entry point, a signed /concern new, a forged one."""
    served = Served(slack_settings, fake_slack, UNIT_CHANNEL="C0UNIT")
    async with served as srv:
        started = time.monotonic()
        assert (await srv.slash("/concern", CONCERN, response_key="e2e")).status_code == 200
        assert time.monotonic() - started < 3
        assert "KE-2026-0001" in all_text(await reply_to(fake_slack, "e2e"))
        notice = await wait_until(lambda: fake_slack.posted("C0UNIT"), timeout=10, what="unit notice")
        assert SUMMARY not in all_text(notice[0])
        assert (await srv.slash("/concern", CONCERN, secret="forged")).status_code == 401
    assert b"Traceback" not in served.err and SUMMARY.encode() not in served.err


def test_python_m_bot_serve_without_signing_secret_exits_2(db_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update({"DATABASE_URL": db_url, "SLACK_BOT_TOKEN": "xoxb-test", "PYTHONPATH": str(ROOT)})
    done = subprocess.run([sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 2
    assert "SLACK_SIGNING_SECRET" in done.stderr and "Traceback" not in done.stderr


async def test_work_processes_run_use_cases_beside_the_event_loop(slack_settings: Settings, clock: Any) -> None:
    svc = make_svc(slack_settings, clock)
    work = Work(svc, processes=1)
    await work.start()
    try:
        reply = await work(dispatch, Invocation(user_id="UADMIN", text="case list", platform="slack"))
        assert reply.ok and "No cases" in reply.text
    finally:
        work.stop()
        svc.engine.dispose()


async def test_python_m_bot_serve_with_log_format_json_writes_only_json_lines(
        slack_settings: Settings, fake_slack: FakeSlack) -> None:
    """Every line on stderr — the banner, uvicorn's own, a refused request — is one JSON object."""
    import json

    served = Served(slack_settings, fake_slack, LOG_FORMAT="json")
    async with served as srv:
        assert (await srv.slash("/case", "list", response_key="json")).status_code == 200
        await reply_to(fake_slack, "json")
        assert (await srv.slash("/case", "list", secret="forged")).status_code == 401
    err = served.err
    lines = [json.loads(line) for line in err.decode().splitlines()]  # each one parses, or this fails
    loggers = {line["logger"] for line in lines}
    assert "uvicorn.error" in loggers and "bot.edge" in loggers
    assert any("serving on port" in line["message"] for line in lines)
    assert all({"time", "level", "logger", "message", "error_id", "request_id", "platform", "command"} <= set(line)
               for line in lines)
