"""A fake Slack on 127.0.0.1: the Web API methods koordinator calls, response_url endpoints, file uploads,
files users uploaded through a modal (files.info and the private download, which wants the bot token),
and a Socket Mode websocket. It records every call and can be told to fail the next N calls (500, or 429
with Retry-After) — the outside world, faked at the HTTP level; our own code is never mocked.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.serving import start_site

BOT_USER = "U0BOT"


@dataclass
class Call:
    method: str
    data: dict[str, Any]
    status: int = 200


@dataclass
class Failure:
    remaining: int
    status: int
    retry_after: int | None
    methods: frozenset[str] | None
    channel: str | None


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    responses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (response_url key, body)
    uploads: dict[str, bytes] = field(default_factory=dict)
    user_files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # id → (name, content)
    downloads: list[tuple[str, str]] = field(default_factory=list)  # (file id, Authorization header)
    socket_acks: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self.socket_connected = asyncio.Event()

    # -- lifecycle ---------------------------------------------------------------------------------------
    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/ws", self._websocket)
        app.router.add_get("/files-pri/{file_id}/{name}", self._download)
        self._runner, self.port = await start_site(app)
        return self

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, key: str) -> str:
        return f"http://127.0.0.1:{self.port}/response/{key}"

    # -- steering ----------------------------------------------------------------------------------------
    def fail_next(self, n: int, status: int = 500, retry_after: int | None = None,
                  methods: set[str] | None = None, channel: str | None = None) -> None:
        """The next n calls (of these methods, or any but auth.test; to this channel, or any) answer with
        this HTTP status."""
        self.failures.append(Failure(n, status, retry_after, frozenset(methods) if methods else None, channel))

    def add_user_file(self, name: str, content: bytes) -> str:
        """A file a user uploaded (what a file_input in a modal holds): its id for the view's state."""
        file_id = f"F0USER{len(self.user_files) + 1}"
        self.user_files[file_id] = (name, content)
        return file_id

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def posted(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages Slack accepted (failed attempts are in `calls` only)."""
        return [c.data for c in self.calls_to("chat.postMessage")
                if c.status == 200 and (channel is None or c.data.get("channel") == channel)]

    def responses_to(self, key: str) -> list[dict[str, Any]]:
        return [body for k, body in self.responses if k == key]

    # -- Web API -----------------------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        data: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            data.update(await request.json())
        elif request.method == "POST":
            form = await request.post()
            data.update({k: v for k, v in form.items() if isinstance(v, str)})
        call = Call(method, data)
        self.calls.append(call)
        for failure in self.failures:
            if failure.remaining > 0 and method != "auth.test" and (
                    failure.methods is None or method in failure.methods) and (
                    failure.channel is None or data.get("channel") == failure.channel):
                failure.remaining -= 1
                call.status = failure.status
                headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
                error = "ratelimited" if failure.status == 429 else "internal_error"
                return web.json_response({"ok": False, "error": error}, status=failure.status, headers=headers)
        return web.json_response(self._answer(method, data))

    def _answer(self, method: str, data: dict[str, Any]) -> dict[str, Any]:
        ts = f"1700000000.{next(self._ts):06d}"
        if method == "auth.test":
            return {"ok": True, "url": "https://fake.slack.test/", "team": "Fake", "user": "koordinator",
                    "team_id": "T0FAKE", "user_id": BOT_USER, "bot_id": "B0BOT"}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(data.get("users", "")).split(",")[0]}}
        if method in ("chat.postMessage", "chat.update"):  # an update keeps its message's ts, as Slack's does
            ts = str(data.get("ts") or ts) if method == "chat.update" else ts
            return {"ok": True, "channel": data.get("channel"), "ts": ts, "message": {"text": data.get("text")}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method in ("views.open", "views.publish", "views.update"):
            return {"ok": True, "view": {"id": f"V{ts[-6:]}", **(data.get("view") or {})}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{ts[-6:]}"
            return {"ok": True, "file_id": file_id, "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            files = data.get("files")
            files = json.loads(files) if isinstance(files, str) else (files or [])
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        if method == "files.info":
            found = self.user_files.get(str(data.get("file", "")))
            if found is None:
                return {"ok": False, "error": "file_not_found"}
            name, content = found
            url = f"http://127.0.0.1:{self.port}/files-pri/{data['file']}/{name}"
            return {"ok": True, "file": {"id": data["file"], "name": name, "size": len(content),
                                         "mimetype": "text/plain", "url_private": url,
                                         "url_private_download": url + "?download=1"}}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/ws"}
        return {"ok": True}

    async def _response_url(self, request: web.Request) -> web.Response:
        self.responses.append((request.match_info["key"], await request.json()))
        return web.Response(text="ok")

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        auth = request.headers.get("Authorization", "")
        self.downloads.append((file_id, auth))
        if auth != "Bearer xoxb-test":
            return web.Response(status=302, headers={"Location": "/login"})  # as Slack answers a bare request
        return web.Response(body=self.user_files[file_id][1], content_type="application/octet-stream")

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        return web.Response(text="OK - 1")

    # -- Socket Mode -------------------------------------------------------------------------------------
    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        self.socket_connected.set()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                body = json.loads(msg.data)
                if "envelope_id" in body:
                    self.socket_acks[body["envelope_id"]] = body
        self._sockets.remove(ws)
        return ws

    async def socket_send(self, envelope: dict[str, Any]) -> None:
        await self.socket_connected.wait()
        await self._sockets[-1].send_str(json.dumps(envelope))
