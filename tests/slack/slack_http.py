"""Test-side plumbing: our real server under uvicorn on a random port, and requests signed exactly as Slack
signs them (v0 HMAC over `v0:{timestamp}:{body}`), form-encoded commands and `payload=<json>` interactions.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from fake_slack import FakeSlack
from slack_sdk.signature import SignatureVerifier

from bot.server import create_app
from commands.context import Services
from tests.serving import Served
from tests.waiting import wait_until  # noqa: F401  (re-exported for the tests here)

SIGNING_SECRET = "test-signing-secret"
UNIT_CHANNEL, SECRETARIAT_CHANNEL = "C0UNIT", "C0SEC"
ADMIN = "UADMIN"
_ids = itertools.count(1)


class AppServer(Served):
    """bot.server.create_app served by uvicorn inside the test's event loop."""

    def __init__(self, svc: Services, fake: FakeSlack, delivery_interval: float = 0.05) -> None:
        self.svc, self.fake = svc, fake
        super().__init__(create_app(svc, delivery_interval=delivery_interval))

    # -- signed requests -------------------------------------------------------------------------------
    async def post_signed(self, body: str, content_type: str, *, secret: str = SIGNING_SECRET,
                          timestamp: int | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
        return await self.http.post("/slack/events", content=body.encode(), headers={
            "Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature,
            **(headers or {})})

    async def slash(self, command: str, text: str = "", *, user: str = "UADMIN", channel: str = "C0UNIT",
                    response_key: str | None = None, **kw: Any) -> httpx.Response:
        n = next(_ids)
        form = {"token": "x", "team_id": "T0FAKE", "team_domain": "fake", "channel_id": channel,
                "channel_name": "unit", "user_id": user, "user_name": user.lower(), "command": command,
                "text": text, "api_app_id": "A0APP", "is_enterprise_install": "false",
                "response_url": self.fake.response_url(response_key or f"r{n}"), "trigger_id": f"trigger.{n}"}
        return await self.post_signed(urlencode(form), "application/x-www-form-urlencoded", **kw)

    async def interaction(self, payload: dict[str, Any], **kw: Any) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post_signed(body, "application/x-www-form-urlencoded", **kw)

    async def event(self, event: dict[str, Any], **kw: Any) -> httpx.Response:
        body = json.dumps({"token": "x", "team_id": "T0FAKE", "api_app_id": "A0APP", "type": "event_callback",
                           "event_id": f"Ev{next(_ids)}", "event_time": int(time.time()), "event": event})
        return await self.post_signed(body, "application/json", **kw)


def view_submission(view: dict[str, Any], values: dict[str, Any], *, user: str = "UADMIN") -> dict[str, Any]:
    """A view_submission payload for a modal we opened; `values` maps block id → element state."""
    state = {block: {block: element} for block, element in values.items()}
    return {"type": "view_submission", "team": {"id": "T0FAKE"}, "user": {"id": user, "username": user.lower()},
            "api_app_id": "A0APP", "trigger_id": f"trigger.{next(_ids)}",
            "view": {**view, "id": f"V{next(_ids)}", "hash": "h", "type": "modal", "team_id": "T0FAKE",
                     "state": {"values": state}}}


def select(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}}}


def multi(*values: str) -> dict[str, Any]:
    return {"type": "multi_static_select", "selected_options": [{"value": v} for v in values]}


def text(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def block_action(value: str, action_id: str, *, user: str = "UADMIN", channel: str | None = "C0UNIT",
                 response_url: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions", "team": {"id": "T0FAKE"}, "user": {"id": user, "username": user.lower()},
        "api_app_id": "A0APP", "trigger_id": f"trigger.{next(_ids)}",
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value,
                     "action_ts": str(time.time())}],
    }
    if channel:
        payload["channel"] = {"id": channel}
        payload["container"] = {"type": "message", "channel_id": channel, "message_ts": "1.1"}
    else:
        payload["container"] = {"type": "view", "view_id": "V0HOME"}
    if response_url:
        payload["response_url"] = response_url
    return payload
