"""`/slack/events` at the edge: the signature on the raw bytes first (401), then the body's shape (400), so bolt
only ever parses a body Slack signed and that it can read.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt.request.internals import parse_body

from bot.edge import fields, wrong_types

MAX_AGE = 300  # seconds; Slack's own rule (and bolt's)

# The fields bolt and our listeners read, with the types they assume.
_OBJECT_OR_ID = (dict, str)
TOP = fields({"type": str, "team": _OBJECT_OR_ID, "user": _OBJECT_OR_ID, "enterprise": _OBJECT_OR_ID,
       "channel": _OBJECT_OR_ID, "event": dict, "view": dict, "container": dict, "message": dict, "actions": list,
       "authorizations": list, "command": str, "text": str, "user_id": str, "user_name": str, "channel_id": str,
       "team_id": str, "enterprise_id": str, "trigger_id": str, "response_url": str, "callback_id": str,
       "api_app_id": str, "token": str, "challenge": str, "is_enterprise_install": (bool, str),
       "function_data": dict, "bot_access_token": str, "state": dict, "submission": dict,
       "team.id": str, "user.id": str, "user.username": str, "user.name": str, "channel.id": str,
       "enterprise.id": str, "event.type": str, "event.user": _OBJECT_OR_ID, "event.channel": _OBJECT_OR_ID,
       "event.team": str, "event.text": str, "event.subtype": str, "event.tab": str, "event.bot_id": str,
       "event.channel_type": str, "event.ts": str, "event.thread_ts": str, "event.files": list,
       "event.enterprise": _OBJECT_OR_ID, "event.message": dict, "event.previous_message": dict,
       "view.type": str, "view.id": str, "view.callback_id": str, "view.private_metadata": str,
       "view.state": dict, "view.state.values": dict, "view.hash": str, "view.team_id": str,
       "view.root_view_id": str, "view.app_id": str, "container.type": str, "container.channel_id": str,
       "container.message_ts": str, "container.view_id": str, "message.ts": str, "message.text": str,
       "message.thread_ts": str})
ACTION = fields({"type": str, "action_id": str, "block_id": str, "value": str, "action_ts": str,
                 "selected_option": dict, "selected_options": list})


def signature_ok(secret: str, raw: bytes, headers: Mapping[str, str], now: float) -> str | None:
    """None when Slack signed `raw` less than five minutes ago; else why not (never the values themselves)."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not signature or not (timestamp.isascii() and timestamp.isdigit()):
        return "unsigned"
    if abs(now - int(timestamp)) > MAX_AGE:
        return "stale timestamp"
    expected = "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("latin-1")):
        return "bad signature"
    return None


def shape_problem(raw: bytes, content_type: str | None) -> str | None:
    """None when bolt can parse the body into the object it expects; else what is wrong with it."""
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8"
    try:
        data: Any = parse_body(body, content_type)
    except (ValueError, RecursionError):
        return "payload is not JSON"
    if not isinstance(data, dict):
        return "payload is not a JSON object"
    problem = wrong_types(data, TOP)
    if problem:
        return problem
    for name in ("actions", "authorizations", "event.files"):
        items = data.get(name) if "." not in name else (data.get("event") or {}).get("files")
        if items is not None and not all(isinstance(item, dict) for item in items):
            return f"{name} holds something other than objects"
    for action in data.get("actions") or ():
        problem = wrong_types(action, ACTION)
        if problem:
            return f"action {problem}"
    values = ((data.get("view") or {}).get("state") or {}).get("values") or {}
    if not all(isinstance(block, dict) and all(isinstance(v, dict) for v in block.values())
               for block in values.values()):
        return "view state values are not objects"
    return None


def check(secret: str, clock: Callable[[], float] = time.time) -> Callable[[bytes, Mapping[str, str]],
                                                                          tuple[int, str] | None]:
    def refuse(raw: bytes, headers: Mapping[str, str]) -> tuple[int, str] | None:
        why = signature_ok(secret, raw, headers, clock())
        if why:
            return 401, why
        problem = shape_problem(raw, headers.get("content-type"))
        return (400, problem) if problem else None

    return refuse
