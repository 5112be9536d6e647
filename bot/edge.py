"""The edge: what every request from outside passes before any SDK parses it.

A bounded body (413 beyond `MAX_BODY`), then the route's own check on the raw bytes (a signature, a token, the
body's shape: 401 or 400 with one log line), and a last guard so that nothing from outside ever produces a
5xx or a traceback in the log: an exception that escapes an SDK becomes a 400 and one line with an error id.
Bolt and the Teams SDK parse the body before they check the signature; here the order is the other way round.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from storage import metrics

log = logging.getLogger(__name__)

ACKED = {"/slack/events": "slack", "/api/messages": "teams"}  # the routes whose answer time is the ack
MAX_BODY = 1 << 20  # Slack payloads and Teams activities are far smaller; a file is never posted to us inline
Check = Callable[[bytes, Mapping[str, str]], "tuple[int, str] | None"]  # (status, why) to refuse, None to pass


class Edge:
    """Pure ASGI middleware: the body is read once (bounded), checked, then replayed to the app."""

    def __init__(self, app: Any, checks: dict[str, Check], max_body: int = MAX_BODY) -> None:
        self.app, self.checks, self.max_body = app, checks, max_body

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        length = headers.get("content-length", "")
        if length and (not (length.isascii() and length.isdigit()) or int(length) > self.max_body):
            await _plain(send, 413, "request body too large\n")
            log.warning("refused a request to %s: body too large", _route(scope))
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.max_body:
                await _plain(send, 413, "request body too large\n")
                log.warning("refused a request to %s: body too large", _route(scope))
                return
            if not message.get("more_body"):
                break
        check = self.checks.get(scope.get("path", ""))
        if check is not None:
            try:
                refused = check(bytes(body), headers)
            except Exception as exc:  # noqa: BLE001 — a check that trips over odd input still refuses it
                refused = (400, f"unreadable body ({type(exc).__name__})")
            if refused is not None:
                status, why = refused
                log.warning("refused a request to %s (%s): %s", _route(scope), status, why)
                await _plain(send, status, "unauthorized\n" if status == 401 else "bad request\n")
                return
        rewrite = getattr(check, "rewrite", None)  # a route may mend what an SDK would refuse (bot/teams)
        if rewrite is not None:
            body = bytearray(rewrite(bytes(body)))
        await self._guarded(scope, bytes(body), receive, send, outside=check is not None)

    async def _guarded(self, scope: dict[str, Any], body: bytes, receive: Any, send: Any, *, outside: bool) -> None:
        replayed = False
        started = False
        begun = time.perf_counter()
        platform = ACKED.get(scope.get("path", ""))

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def watch(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                if outside and message["status"] == 500:  # an SDK's own error answer: never a 5xx to the outside
                    message = {**message, "status": 400}
                started = True
                if platform is not None:
                    metrics.ACK_SECONDS.labels(platform).observe(time.perf_counter() - begun)
            await send(message)

        try:
            await self.app(scope, replay, watch)
        except Exception as exc:  # noqa: BLE001 — the one place where anything left over is turned into a 4xx
            from sqlalchemy.exc import DBAPIError

            error_id = secrets.token_hex(4)
            log.error("request to %s failed (%s) error_id=%s", _route(scope), type(exc).__name__, error_id)
            if not started:
                if isinstance(exc, DBAPIError):  # the database, not the request: ask to come back
                    await _plain(send, 503, f"try again in a moment (error id {error_id})\n")
                else:
                    await _plain(send, 400, f"bad request (error id {error_id})\n")


def _route(scope: dict[str, Any]) -> str:
    """The path for a log line, without anything secret in it (the calendar feed's token)."""
    path = str(scope.get("path", ""))
    return "/calendar/…" if path.startswith("/calendar/") else path[:64]


async def _plain(send: Any, status: int, text: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": text.encode()})


def install(app: Any, path: str | None = None, check: Check | None = None) -> None:
    """Put the edge in front of `app` (once), and register `check` for requests to `path`."""
    checks: dict[str, Check] | None = getattr(app.state, "edge_checks", None)
    if checks is None:
        checks = {}
        app.state.edge_checks = checks
        app.add_middleware(Edge, checks=checks)
    if path is not None and check is not None:
        checks[path] = check


def json_object(body: bytes) -> tuple[Any, str | None]:
    """The body as a JSON object, or why it is not one."""
    import json

    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "not UTF-8"
    except (ValueError, RecursionError):
        return None, "not JSON"
    if not isinstance(data, dict):
        return None, "not a JSON object"
    return data, None


Fields = tuple[tuple[str, tuple[str, ...], "type | tuple[type, ...]"], ...]


def fields(expected: Mapping[str, type | tuple[type, ...]]) -> Fields:
    """A table of `{dotted name: type}` made ready once, at import, for `wrong_types` on every request."""
    return tuple((name, tuple(name.split(".")), kind) for name, kind in expected.items())


def wrong_types(data: Mapping[str, Any], expected: Fields) -> str | None:
    """The first field present with another type than expected (dotted names reach into objects)."""
    for name, path, kind in expected:
        value: Any = data
        for part in path:
            if not isinstance(value, dict) or part not in value:
                value = _MISSING
                break
            value = value[part]
        if value is not _MISSING and not isinstance(value, kind):
            return f"field {name} has the wrong type"
    return None


_MISSING = object()
