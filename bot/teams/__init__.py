"""The Microsoft Teams adapter: `register(app, svc)` mounts POST /api/messages on the server's FastAPI app
through the Teams SDK and runs the Teams outbox sender while the app lives. See docs/teams.md.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from bot.teams.config import auth_mode, config_problem, wanted
from storage.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from bot.runtime import Runner
    from bot.teams.runtime import TeamsRuntime
    from bot.teams.sdk import CloudEnvironment, TokenProvider
    from commands.context import Services

__all__ = ["auth_mode", "config_problem", "edge_check", "register", "wanted"]


ACTIVITY = {"type": str, "id": str, "name": str, "text": str, "textFormat": str, "serviceUrl": str, "channelId": str,
            "timestamp": str, "locale": str, "replyToId": str, "from": dict, "from.id": str, "from.name": str,
            "from.aadObjectId": str, "recipient": dict, "recipient.id": str, "conversation": dict,
            "conversation.id": str, "conversation.tenantId": str, "conversation.conversationType": str,
            "channelData": dict, "channelData.tenant": dict, "channelData.tenant.id": str, "channelData.team": dict,
            "channelData.channel": dict, "attachments": list, "entities": list, "membersAdded": list,
            "membersRemoved": list}


def edge_check(settings: Settings) -> Callable[[bytes, Mapping[str, str]], tuple[int, str] | None]:
    """/api/messages before the SDK parses it: a bearer token must be there (the SDK then validates it), and
    the body must be an activity object."""
    from bot.edge import fields, json_object, wrong_types
    from bot.teams.sdk import ActivityTypeAdapter

    activity = fields(ACTIVITY)
    needs_token = auth_mode(settings) != "dev"

    def refuse(raw: bytes, headers: Mapping[str, str]) -> tuple[int, str] | None:
        if needs_token and not headers.get("authorization", "").startswith("Bearer "):
            return 401, "no bearer token"
        data, problem = json_object(raw)
        if problem:
            return 400, problem
        problem = wrong_types(data, activity)
        if problem:
            return 400, problem
        for name in ("attachments", "entities", "membersAdded", "membersRemoved"):
            if not all(isinstance(item, dict) for item in data.get(name) or ()):
                return 400, f"{name} holds something other than objects"
        try:
            ActivityTypeAdapter.validate_python(_mended(data))  # what the SDK does later, where it logs a traceback
        except ValueError as exc:
            return 400, f"not an activity ({type(exc).__name__})"
        return None

    refuse.rewrite = rewrite  # type: ignore[attr-defined]
    return refuse


def _mended(data: dict) -> dict:
    """A card's automatic refresh (Universal Actions) arrives as `adaptiveCard/action` with `trigger:
    "automatic"`, which the Teams SDK's model (2.1) refuses — it knows only "manual". The verb tells us what to
    refresh, so the trigger is dropped before the SDK reads the activity."""
    value = data.get("value")
    if data.get("name") == "adaptiveCard/action" and isinstance(value, dict) and value.get("trigger") == "automatic":
        data = {**data, "value": {k: v for k, v in value.items() if k != "trigger"}}
    return data


def rewrite(raw: bytes) -> bytes:
    import json

    if b'"automatic"' not in raw:
        return raw
    data = json.loads(raw)
    return json.dumps(_mended(data)).encode() if isinstance(data, dict) else raw


class _OneLine(logging.Filter):
    """The SDK logs a failed request with its traceback and the error's text, which can quote the activity:
    keep the exception's type only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg, record.args = "Teams request failed (%s)", (type(record.exc_info[1]).__name__,)
            record.exc_info, record.exc_text = None, None
        return True


def register(app: FastAPI, svc: Services, *, work: Runner | None = None, delivery_interval: float = 2.0,
             cloud: CloudEnvironment | None = None, token: TokenProvider | None = None) -> TeamsRuntime:
    """Mount Teams on `app`; the route and the outbox loop start with the app's lifespan.

    `work` runs the use cases (the server's work pool, as for Slack); threads by default. `cloud` (Microsoft's
    endpoints, e.g. where the token signing keys are) and `token` (the bot's outgoing token) are for tests only.
    """
    from bot import edge
    from bot.teams.connector import Connector, build_app
    from bot.teams.delivery import DeliveryLoop
    from bot.teams.handlers import register_handlers
    from bot.teams.runtime import TeamsRuntime
    from bot.teams.sdk import FastAPIAdapter

    edge.install(app, "/api/messages", edge_check(svc.settings))
    sdk_log = logging.getLogger("microsoft_teams.apps.http.http_server")
    if not any(isinstance(f, _OneLine) for f in sdk_log.filters):
        sdk_log.addFilter(_OneLine())
    adapter = FastAPIAdapter(app=app)
    sdk = build_app(svc.settings, cloud=cloud, token=token, adapter=adapter)
    connector = Connector(sdk)
    delivery = DeliveryLoop(svc, connector, delivery_interval)
    runtime = TeamsRuntime(svc, sdk, connector, kick=delivery.kick, runner=work)
    register_handlers(sdk, runtime)

    @asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        await sdk.initialize()  # registers POST /api/messages with the SDK's token validation
        delivery.start()
        try:
            yield
        finally:
            await delivery.stop()

    adapter.lifespans.append(lifespan)
    app.state.teams = runtime
    return runtime
