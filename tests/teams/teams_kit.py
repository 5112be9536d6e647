"""Test-side plumbing: our FastAPI app with Teams registered, served by uvicorn on a random port, and a client
that posts Activity JSON exactly as the Bot Connector does (signed Bearer token, serviceUrl → the fake)."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from microsoft_teams.api.auth.cloud_environment import PUBLIC, CloudEnvironment, with_overrides
from sqlmodel import Session, func, select
from teams_fakes import OUTGOING_TOKEN, FakeConnector, FakeOpenId, sign

from bot.teams import register
from commands.context import Services
from tests.serving import Served
from tests.waiting import wait_until  # noqa: F401  (re-exported for the tests here)

APP_ID = "11111111-2222-4333-8444-555555555555"
BOT_ID = f"28:{APP_ID}"
TENANT = "7a0f3c1e-0000-4000-8000-00000000c0de"
OTHER_TENANT = "9b9b9b9b-0000-4000-8000-0000000ba0de"
UNIT_CHANNEL = "19:unit-channel@thread.tacv2"
SECRETARIAT_CHANNEL = "19:secretariat@thread.tacv2"
TEAM = "19:team-general@thread.tacv2"
_ids = itertools.count(1)


@dataclass(frozen=True)
class User:
    aad: str
    name: str

    @property
    def teams_id(self) -> str:
        return f"29:{self.aad[:8]}-teams"

    @property
    def chat(self) -> str:
        """The id of this user's 1:1 chat with the bot."""
        return f"a:personal-{self.aad[:8]}"


def user(n: int, name: str) -> User:
    return User(f"{n:08x}-aaaa-4bbb-8ccc-{n:012x}", name)


ADMIN = user(0xAD, "Ada Admin")


def cloud_for(openid: FakeOpenId) -> CloudEnvironment:
    return with_overrides(PUBLIC, openid_metadata_url=openid.url)


class TeamsServer(Served):
    """A FastAPI app with `bot.teams.register` served by uvicorn inside the test's event loop."""

    def __init__(self, svc: Services, connector: FakeConnector, openid: FakeOpenId | None,
                 key: rsa.RSAPrivateKey | None, app: FastAPI | None = None) -> None:
        self.svc, self.connector, self.key = svc, connector, key
        app = app or FastAPI()
        self.runtime = register(app, svc, cloud=cloud_for(openid) if openid else None,
                                token=(lambda *_: OUTGOING_TOKEN) if openid else None, delivery_interval=0.05)
        super().__init__(app)

    # -- activities ------------------------------------------------------------------------------------------
    def activity(self, sender: User, *, kind: str = "message", channel: str | None = None,
                 tenant: str = TENANT, **fields: Any) -> dict[str, Any]:
        n = next(_ids)
        if channel is None:
            conversation = {"id": sender.chat, "conversationType": "personal", "tenantId": tenant}
            channel_data: dict[str, Any] = {"tenant": {"id": tenant}}
        else:
            conversation = {"id": f"{channel};messageid={n}", "conversationType": "channel", "tenantId": tenant,
                            "isGroup": True}
            channel_data = {"tenant": {"id": tenant}, "team": {"id": TEAM}, "channel": {"id": channel}}
        return {"type": kind, "id": f"{1700000000000 + n}", "timestamp": datetime.now(UTC).isoformat(),
                "serviceUrl": self.connector.url, "channelId": "msteams",
                "from": {"id": sender.teams_id, "name": sender.name, "aadObjectId": sender.aad},
                "recipient": {"id": BOT_ID, "name": "koordinator"}, "conversation": conversation,
                "channelData": channel_data, "locale": "en-US", **fields}

    async def post(self, activity: dict[str, Any], *, token: str | None = "valid") -> httpx.Response:
        headers = {}
        if token == "valid":
            assert self.key is not None
            token = sign(self.key, audience=APP_ID, service_url=activity["serviceUrl"])
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return await self.http.post("/api/messages", content=json.dumps(activity), headers={
            "Content-Type": "application/json", **headers})

    async def say(self, sender: User, text: str, *, channel: str | None = None, **kw: Any) -> str:
        """Post a message; returns its activity id (the answer in a 1:1 chat carries it as replyToId)."""
        activity = self.activity(sender, text=text, textFormat="plain", channel=channel)
        response = await self.post(activity, **kw)
        assert response.status_code == 200, response.text
        return activity["id"]

    async def open(self, sender: User, text: str) -> dict[str, Any]:
        """Type a command whose answer is a dialog (a form, details) and open it: the dialog's card."""
        asked = await self.say(sender, text)
        posted = next(a for a in self.connector.posted(sender.chat) if a.get("replyToId") == asked)
        answer = await self.click(sender, open_card_action(card_of(posted)))
        assert answer["type"] == "application/vnd.microsoft.card.adaptive", answer
        return answer["value"]

    async def invoke(self, sender: User, name: str, value: dict[str, Any], *, channel: str | None = None
                     ) -> dict[str, Any]:
        """An invoke activity as Teams sends it; returns the invoke response body."""
        response = await self.post(self.activity(sender, kind="invoke", name=name, value=value, channel=channel))
        assert response.status_code == 200, response.text
        return response.json()

    async def click(self, sender: User, action: dict[str, Any], inputs: dict[str, Any] | None = None, *,
                    channel: str | None = None) -> dict[str, Any]:
        """A click on a card we rendered, with the user's inputs; returns the invoke response body. An
        Action.Submit opens a dialog (`msteams.type = task/fetch`) or submits one (task/submit): its answer comes
        back as {"type": card or message, "value": …, "task": the raw dialog response}, as Teams shows it."""
        if action["type"] == "Action.Submit":
            data = {**action.get("data", {}), **(inputs or {})}
            fetch = (data.get("msteams") or {}).get("type") == "task/fetch"
            raw = await self.invoke(sender, "task/fetch" if fetch else "task/submit",
                                    {"data": data, "context": {"theme": "default"}}, channel=channel)
            return dialog_answer(raw)
        assert action["type"] == "Action.Execute", action
        value = {"action": {"type": "Action.Execute", "verb": action["verb"],
                            "data": {**action.get("data", {}), **(inputs or {})}}, "trigger": "manual"}
        response = await self.post(self.activity(sender, kind="invoke", name="adaptiveCard/action", value=value,
                                                 channel=channel))
        assert response.status_code == 200, response.text
        return response.json()


def dialog_answer(raw: dict[str, Any]) -> dict[str, Any]:
    """A task/fetch or task/submit response as what the user sees: a card in the dialog, or a message."""
    task = raw["task"]
    if task["type"] == "continue":
        card = task["value"]["card"]
        assert card["contentType"] == "application/vnd.microsoft.card.adaptive", card
        return {"type": card["contentType"], "value": card["content"], "task": task}
    return {"type": "application/vnd.microsoft.activity.message", "value": task["value"], "task": task}


def open_card_action(card: dict[str, Any]) -> dict[str, Any]:
    """The *Open* button of a card that stands for a dialog (a form, or an answer with details)."""
    found = [a for a in actions(card) if a["type"] == "Action.Submit"
             and (a.get("data", {}).get("msteams") or {}).get("type") == "task/fetch"]
    assert found, card
    return found[0]


def stands_for_a_dialog(card: dict[str, Any]) -> bool:
    """An answer posted as an open card (a form, or details): its one button opens the answer kept for it."""
    found = actions(card)
    return len(found) == 1 and bool(((found[0].get("data") or {}).get("koord") or {}).get("token"))


def cards(activity: dict[str, Any]) -> list[dict[str, Any]]:
    return [a["content"] for a in activity.get("attachments") or []
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"]


def card_of(activity: dict[str, Any]) -> dict[str, Any]:
    found = cards(activity)
    assert len(found) == 1, activity
    return found[0]


def text_of(card: dict[str, Any]) -> str:
    """Every human-visible string of a card (text blocks, facts, labels, button titles)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("text", "title", "value", "label", "placeholder"):
                if isinstance(node.get(key), str):
                    out.append(node[key])
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in card.items() if k != "msteams"})
    return "\n".join(out)


def actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(card.get("actions") or [])
    for element in card.get("body") or []:
        if element.get("type") == "ActionSet":
            found += element["actions"]
    return found


def action(card: dict[str, Any], title: str) -> dict[str, Any]:
    matches = [a for a in actions(card) if a.get("title", "").startswith(title)]
    assert matches, f"no action {title!r} in {[a.get('title') for a in actions(card)]}"
    return matches[0]


def count(svc: Services, model: Any) -> int:
    with Session(svc.engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()
