"""The edge of /slack/events: forged or unreadable requests are refused before bolt parses them (401/400, one
log line), and no generated body — signed or not — gets a 5xx or leaves a traceback in the log."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fake_slack import FakeSlack
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_http import ADMIN, SECRETARIAT_CHANNEL, SIGNING_SECRET, UNIT_CHANNEL, AppServer
from slack_sdk.signature import SignatureVerifier

from commands.context import Services
from storage.clock import SystemClock
from tests.conftest import PG_URL, make_settings, make_svc
from tests.threaded import LoopThread, Records

FORM = "application/x-www-form-urlencoded"


class Edge:
    """Our server and a fake Slack on a loop of their own, a synchronous client, the log."""

    def __init__(self, url: str) -> None:
        self.loop = LoopThread()
        self.fake = self.loop.run(FakeSlack().start())
        settings_ = make_settings(url, slack_bot_token="xoxb-test", slack_signing_secret=SIGNING_SECRET,
                                  slack_api_url=self.fake.base_url.rstrip("/"), unit_channel=UNIT_CHANNEL,
                                  secretariat_channel=SECRETARIAT_CHANNEL, admin_users=(ADMIN,))
        self.svc: Services = make_svc(settings_, SystemClock())  # type: ignore[arg-type]
        self.server = AppServer(self.svc, self.fake)
        self.loop.run(self.server.__aenter__())
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.server.port}", timeout=20)

    def post(self, body: bytes, content_type: str, *, sign: bool = True, **headers: str) -> httpx.Response:
        ts = str(int(time.time()))
        sent = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, **headers}
        if sign:
            sent["X-Slack-Signature"] = "v0=" + _hmac(ts, body)
        return self.http.post("/slack/events", content=body, headers=sent)

    def close(self) -> None:
        self.http.close()
        self.loop.run(self.server.__aexit__(None, None, None))
        self.loop.run(self.fake.stop())
        self.loop.close()
        self.svc.engine.dispose()


def _hmac(ts: str, body: bytes) -> str:
    import hashlib
    import hmac

    return hmac.new(SIGNING_SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()


@pytest.fixture(scope="module")
def edge(_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    if PG_URL:
        url = _template
    else:
        path = Path(tmp_path_factory.mktemp("edge")) / "edge.db"
        shutil.copy(_template, path)
        url = f"sqlite:///{path}"
    with Records() as records:
        server = Edge(url)
        server.records = records  # type: ignore[attr-defined]
        yield server
        server.close()


# -- hand-picked cases ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, content_type", [
    (b"payload=%7Bnot-json", FORM),
    (b"payload=%5B1%2C2%5D", FORM),
    (b"[1, 2, 3]", "application/json"),
    (b"\xff\xfe\x00garbage", FORM),
    (b'{"type": "event_callback", "event": "no"}', "application/json"),
    (urlencode({"payload": json.dumps({"type": "view_submission", "view": {"state": {}}})}).encode(), FORM),
    (urlencode({"payload": json.dumps({"type": "block_actions", "actions": ["x"]})}).encode(), FORM),
])
def test_a_malformed_body_is_refused_with_400_before_parsing_and_a_forged_one_with_401(
        edge: Edge, body: bytes, content_type: str) -> None:
    before = len(edge.records.lines)  # type: ignore[attr-defined]
    forged = edge.post(body, content_type, sign=False, **{"X-Slack-Signature": "v0=" + "0" * 64})
    assert forged.status_code == 401
    signed = edge.post(body, content_type)
    assert signed.status_code in (400, 404) or signed.status_code < 300, signed.status_code
    lines = edge.records.lines[before:]  # type: ignore[attr-defined]
    assert not [line for line in lines if "Traceback" in line]
    refusals = [line for line in lines if "refused a request to /slack/events" in line]
    assert refusals and all("\n" not in line for line in refusals)


def test_a_stale_or_unsigned_request_is_401(edge: Edge) -> None:
    body = urlencode({"command": "/case", "text": "list", "user_id": ADMIN}).encode()
    old = str(int(time.time()) - 3600)
    stale = edge.http.post("/slack/events", content=body, headers={
        "Content-Type": FORM, "X-Slack-Request-Timestamp": old,
        "X-Slack-Signature": SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=old, body=body.decode())})
    assert stale.status_code == 401
    assert edge.http.post("/slack/events", content=body, headers={"Content-Type": FORM}).status_code == 401


def test_a_body_beyond_the_limit_is_refused_with_413(edge: Edge) -> None:
    from bot.edge import MAX_BODY

    response = edge.post(b"x" * (MAX_BODY + 1), FORM)
    assert response.status_code == 413


def test_a_calendar_token_of_the_wrong_shape_is_404_and_not_logged(edge: Edge) -> None:
    before = len(edge.records.lines)  # type: ignore[attr-defined]
    assert edge.http.get("/calendar/%00%ff..%2F.ics").status_code == 404
    assert edge.http.get("/calendar/" + "a" * 500 + ".ics").status_code == 404
    assert not [x for x in edge.records.lines[before:] if "Traceback" in x]  # type: ignore[attr-defined]


# -- generated bodies ----------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12)
anything = json_values | st.just({}) | st.just([])
PAYLOAD_TYPES = ("block_actions", "view_submission", "view_closed", "shortcut", "message_action", "block_suggestion",
                 "interactive_message", "event_callback", "url_verification", "app_rate_limited", "bogus")


@st.composite
def interaction(draw: st.DrawFn) -> dict[str, Any]:
    """An interaction payload with its usual fields, each one maybe missing or of the wrong type."""
    fields = {
        "type": st.sampled_from(PAYLOAD_TYPES) | anything,
        "user": st.fixed_dictionaries({"id": st.just(ADMIN) | anything}) | anything,
        "team": st.fixed_dictionaries({"id": st.just("T0FAKE")}) | anything,
        "api_app_id": st.just("A0APP") | anything,
        "trigger_id": st.just("trigger.x") | anything,
        "channel": st.fixed_dictionaries({"id": st.just(UNIT_CHANNEL) | anything}) | anything,
        "actions": st.lists(st.fixed_dictionaries({"action_id": st.sampled_from(["case_show", "x", ""]) | anything,
                                                   "value": st.text(max_size=12) | anything}) | anything,
                            max_size=2) | anything,
        "view": st.fixed_dictionaries({"type": st.just("modal") | anything,
                                       "callback_id": st.sampled_from(["form:concern.new", "x"]) | anything,
                                       "private_metadata": st.text(max_size=20) | anything,
                                       "state": st.fixed_dictionaries({"values": anything}) | anything}) | anything,
        "container": anything, "response_url": st.text(max_size=20) | anything,
        "event": st.fixed_dictionaries({"type": st.sampled_from(["app_home_opened", "message"]) | anything,
                                        "user": st.just(ADMIN) | anything, "tab": st.just("home") | anything,
                                        "text": st.text(max_size=20) | anything}) | anything,
    }
    chosen = draw(st.sets(st.sampled_from(sorted(fields))))
    return {name: draw(fields[name]) for name in chosen}


slash_form = st.dictionaries(
    st.sampled_from(["command", "text", "user_id", "user_name", "channel_id", "trigger_id", "response_url", "team_id",
                     "payload", "ssl_check", "token"]),
    st.sampled_from(["/case", "/concern", "/koordinator", "/nope", ADMIN, "list", ""]) | st.text(max_size=30),
    max_size=8)

bodies = st.one_of(
    interaction().map(lambda p: (urlencode({"payload": json.dumps(p)}).encode(), FORM)),
    interaction().map(lambda p: (json.dumps(p).encode(), "application/json")),
    anything.map(lambda v: (json.dumps(v).encode(), "application/json")),
    anything.map(lambda v: (urlencode({"payload": json.dumps(v)}).encode(), FORM)),
    slash_form.map(lambda form: (urlencode(form).encode(), FORM)),
    st.binary(max_size=200).map(lambda raw: (raw, FORM)),
    st.binary(max_size=200).map(lambda raw: (b"payload=" + raw, FORM)),
    st.text(max_size=100).map(lambda raw: (raw.encode(), "application/json")),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(body=bodies, signed=st.booleans(), content_type=st.sampled_from([None, FORM, "application/json", "text/plain"]))
def test_no_generated_body_gets_a_5xx_or_a_traceback(edge: Edge, body: tuple[bytes, str], signed: bool,
                                                     content_type: str | None) -> None:
    raw, natural = body
    response = edge.post(raw, content_type or natural, sign=signed)
    assert response.status_code < 500, (response.status_code, raw[:200])
    if not signed:
        assert response.status_code == 401
    assert not edge.records.tracebacks(), edge.records.tracebacks()[0]  # type: ignore[attr-defined]


def test_after_the_generated_bodies_the_log_still_has_no_traceback(edge: Edge) -> None:
    time.sleep(1)  # listeners run after the ack; give the last ones time to finish
    assert not edge.records.tracebacks()  # type: ignore[attr-defined]
    assert edge.post(urlencode({"command": "/case", "text": "list", "user_id": ADMIN, "channel_id": UNIT_CHANNEL,
                                "trigger_id": "t.final", "response_url": edge.fake.response_url("final")}).encode(),
                     FORM).status_code == 200
