"""The outside world of a Teams bot, faked at the HTTP level on 127.0.0.1: Microsoft's token signing keys
(an OpenID document and a JWKS with our own RSA test key) and the Bot Connector service (records every
activity posted, updated, and every 1:1 chat opened; can answer 429 or 5xx). Our own code is never mocked.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.serving import start_site

ISSUER = "https://api.botframework.com"  # what the Bot Connector service signs its tokens as
KID = "koordinator-test-key"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeOpenId:
    """Microsoft's OpenID metadata and signing keys. A thread of its own: the SDK fetches keys with a blocking
    client from inside the event loop that also runs the fake connector."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        self.jwks = {"keys": [{**jwk, "kid": KID, "use": "sig", "alg": "RS256"}]}
        self.fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if self.path.endswith("/keys"):
                    outer.fetches += 1
                    body = outer.jwks
                else:
                    body = {"issuer": ISSUER, "jwks_uri": outer.url.replace("openidconfiguration", "keys"),
                            "id_token_signing_alg_values_supported": ["RS256"]}
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1/.well-known/openidconfiguration"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def sign(key: rsa.RSAPrivateKey, *, audience: str, service_url: str, issuer: str = ISSUER,
         lifetime: int = 600) -> str:
    """A Bot Framework token as the connector sends it with every activity."""
    now = int(time.time())
    claims = {"iss": issuer, "aud": audience, "serviceurl": service_url, "iat": now, "nbf": now,
              "exp": now + lifetime}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})


OUTGOING_TOKEN = jwt.encode({"aud": "https://api.botframework.com", "exp": 4102444800}, "x" * 32,
                            algorithm="HS256")


@dataclass
class Call:
    method: str
    path: str
    conversation: str
    body: dict[str, Any]
    authorization: str
    status: int = 200
    activity_id: str = ""


@dataclass
class Failure:
    remaining: int
    status: int
    retry_after: int | None
    conversation: str | None


@dataclass
class Upload:
    """A file put at an upload URL (in Teams: the user's OneDrive, pre-authorised, no bearer token)."""

    name: str
    data: bytes
    headers: dict[str, str]


@dataclass
class FakeConnector:
    calls: list[Call] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    members: dict[str, dict[str, str]] = field(default_factory=dict)  # Teams id → the member, as Teams lists them
    upload_status: int = 201  # what the next uploads answer (e.g. 507 when the OneDrive is full)
    shared: dict[str, bytes] = field(default_factory=dict)  # files a user attached: name → bytes (download URL)
    port: int = 0

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    async def start(self) -> FakeConnector:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create_conversation)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._activity)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._activity)
        app.router.add_put("/onedrive/upload/{name}", self._upload)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        app.router.add_get("/shared/{name}", self._shared)
        self._runner, self.port = await start_site(app)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def attach(self, name: str, data: bytes) -> dict[str, Any]:
        """A file a user attached to a message: the attachment Teams puts on the activity."""
        self.shared[name] = data
        return {"contentType": "application/vnd.microsoft.teams.file.download.info", "name": name,
                "content": {"downloadUrl": f"{self.url}shared/{name}", "uniqueId": "7f7e1a2b",
                            "fileType": name.rsplit(".", 1)[-1]}}

    async def _shared(self, request: web.Request) -> web.Response:
        data = self.shared.get(request.match_info["name"])
        return web.Response(status=404) if data is None else web.Response(body=data)

    def upload_info(self, name: str) -> dict[str, str]:
        """What Teams sends when a user allows a file: where to put it, and where it will be."""
        return {"name": name, "uploadUrl": f"{self.url}onedrive/upload/{name}",
                "contentUrl": f"https://contoso.sharepoint.test/personal/me/Documents/Applications/{name}",
                "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C8C", "fileType": name.rsplit(".", 1)[-1]}

    def fail_next(self, n: int, status: int = 500, retry_after: int | None = None,
                  conversation: str | None = None) -> None:
        self.failures.append(Failure(n, status, retry_after, conversation))

    # -- what was delivered --------------------------------------------------------------------------------
    def posted(self, conversation: str | None = None) -> list[dict[str, Any]]:
        """Activities the connector accepted (POST), in order; failed attempts are only in `calls`."""
        return [c.body for c in self.calls if c.method == "POST" and c.path == "activities" and c.status == 200
                and (conversation is None or c.conversation == conversation)]

    def updated(self, conversation: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == "PUT" and c.status == 200
                and (conversation is None or c.conversation == conversation)]

    def opened(self) -> list[dict[str, Any]]:
        return [c.body for c in self.calls if c.path == "conversations" and c.status == 200]

    def failed(self, conversation: str | None = None) -> int:
        return sum(1 for c in self.calls
                   if c.status != 200 and (conversation is None or c.conversation == conversation))

    # -- the API ---------------------------------------------------------------------------------------------
    def _failure(self, conversation: str) -> Failure | None:
        for failure in self.failures:
            if failure.remaining > 0 and failure.conversation in (None, conversation):
                failure.remaining -= 1
                return failure
        return None

    async def _activity(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        call = Call(request.method, "activities", conversation, await request.json(),
                    request.headers.get("Authorization", ""))
        self.calls.append(call)
        failure = self._failure(conversation)
        if failure is not None:
            call.status = failure.status
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            return web.json_response({"error": {"code": "Throttled" if failure.status == 429 else "ServiceError",
                                                "message": "fake failure"}}, status=failure.status, headers=headers)
        call.activity_id = request.match_info.get("activity") or f"act-{next(self._ids)}"
        return web.json_response({"id": call.activity_id})

    def add_member(self, teams_id: str, aad: str, name: str) -> None:
        self.members[teams_id] = {"id": teams_id, "name": name, "aadObjectId": aad, "tenantId": "t",
                                  "userPrincipalName": "x@example.test"}

    async def _member(self, request: web.Request) -> web.Response:
        call = Call("GET", "members", request.match_info["conversation"], {}, request.headers.get("Authorization", ""))
        self.calls.append(call)
        member = self.members.get(request.match_info["member"])
        if member is None:
            call.status = 404
            return web.json_response({"error": {"code": "MemberNotFoundInConversation", "message": "no"}}, status=404)
        return web.json_response(member)

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads.append(Upload(request.match_info["name"], await request.read(), dict(request.headers)))
        return web.json_response({"id": "drive-item"}, status=self.upload_status)

    async def _create_conversation(self, request: web.Request) -> web.Response:
        body = await request.json()
        call = Call("POST", "conversations", "", body, request.headers.get("Authorization", ""))
        self.calls.append(call)
        member = (body.get("members") or [{}])[0].get("id", "")
        return web.json_response({"id": f"a:opened-{member}"})


@dataclass
class FakeGraph:
    """Microsoft Graph and the Entra token endpoint, as far as koordinator uses them: the client-credentials
    token, the app catalog, and installing an app for a user (`install_status`: 201, 409, or 403 without the
    permission). Records every call."""

    calls: list[Call] = field(default_factory=list)
    install_status: int = 201
    catalog: list[dict[str, str]] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._runner: web.AppRunner | None = None

    async def start(self) -> FakeGraph:
        app = web.Application()
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get("/v1.0/appCatalogs/teamsApps", self._catalog)
        app.router.add_post("/v1.0/users/{user}/teamwork/installedApps", self._install)
        self._runner, self.port = await start_site(app)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def installs(self) -> list[Call]:
        return [c for c in self.calls if c.path == "installedApps"]

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.calls.append(Call("POST", "token", request.match_info["tenant"], {k: str(v) for k, v in form.items()},
                               ""))
        if form.get("grant_type") != "client_credentials" or not form.get("client_secret"):
            return web.json_response({"error": "invalid_client"}, status=401)
        return web.json_response({"token_type": "Bearer", "expires_in": 3599, "access_token": "graph-token"})

    async def _catalog(self, request: web.Request) -> web.Response:
        self.calls.append(Call("GET", "catalog", "", dict(request.query), request.headers.get("Authorization", "")))
        wanted = request.query.get("$filter", "")
        return web.json_response({"value": [a for a in self.catalog if a["externalId"] in wanted]})

    async def _install(self, request: web.Request) -> web.Response:
        call = Call("POST", "installedApps", request.match_info["user"], await request.json(),
                    request.headers.get("Authorization", ""), status=self.install_status)
        self.calls.append(call)
        if self.install_status >= 400:
            return web.json_response({"error": {"code": "Forbidden", "message": "Missing role permissions"}},
                                     status=self.install_status)
        return web.Response(status=self.install_status)
