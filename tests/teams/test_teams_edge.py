"""/api/messages at the edge: no token → 401 before the body is read; a body that is not an activity → 400;
never a 5xx, never a traceback."""

from __future__ import annotations

import json
import logging

import pytest
from teams_fakes import sign
from teams_kit import ADMIN, APP_ID, TeamsServer

from tests.threaded import Records


@pytest.mark.parametrize("body", [
    b"\xff\xfe not utf-8", b"not json", b"[1, 2]", b"42", b'{"type": 5}', b'{"type": "message", "from": "x"}',
    b'{"type": "message", "conversation": {"id": 7}}', b'{"type": "message", "attachments": [1]}',
])
async def test_a_body_that_is_not_an_activity_is_400_and_without_a_token_401(teams: TeamsServer, body: bytes) -> None:
    with Records() as records:
        unsigned = await teams.http.post("/api/messages", content=body, headers={"Content-Type": "application/json"})
        assert unsigned.status_code == 401
        assert teams.key is not None
        token = "Bearer " + sign(teams.key, audience=APP_ID, service_url=teams.connector.url)
        response = await teams.http.post("/api/messages", content=body, headers={
            "Content-Type": "application/json", "Authorization": token})
        assert response.status_code == 400
    assert not records.tracebacks()
    assert sum("refused a request to /api/messages" in line for line in records.lines) == 2


async def test_a_well_formed_activity_with_odd_values_gets_no_5xx(teams: TeamsServer) -> None:
    odd = [teams.activity(ADMIN, text="help", value=[1, 2]), teams.activity(ADMIN, kind="invoke", name="nope",
                                                                           value="x"),
           teams.activity(ADMIN, kind="conversationUpdate", membersAdded=[{}]),
           {**teams.activity(ADMIN, text="help"), "channelData": {}}, {"serviceUrl": teams.connector.url}]
    with Records() as records:
        for activity in odd:
            response = await teams.post(activity)
            assert response.status_code < 500, (response.status_code, json.dumps(activity)[:200])
    logging.getLogger(__name__).info("done")
    assert not records.tracebacks(), records.tracebacks()[0]
