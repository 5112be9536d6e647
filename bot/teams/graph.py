"""Reaching every member: installing koordinator for a Teams member who has no 1:1 chat with it yet, through
Microsoft Graph (`POST /users/{id}/teamwork/installedApps`), with the client-credentials token of the bot's own
Entra app (TEAMS_APP_ID / TEAMS_APP_PASSWORD in TEAMS_TENANT_ID).

Installing makes Teams send the bot a conversationUpdate for the new 1:1 chat: its reference is stored like any
other (bot/teams/handlers.py) and what waited for the member is delivered at once. The Entra app needs the
application permission `TeamsAppInstallation.ReadWriteSelfForUser.All` (and `AppCatalog.Read.All` unless
TEAMS_CATALOG_APP_ID names the app's catalog id). Without it Graph answers 403: the secretariat is told, once per
member, who cannot be reached (bot/teams/reach.py). GRAPH_API_URL empty turns this off.

Logs name user ids and HTTP statuses only, never a token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from storage.settings import Settings

SCOPE = "https://graph.microsoft.com/.default"
PERMISSION = "TeamsAppInstallation.ReadWriteSelfForUser.All"  # the application permission installs need
TIMEOUT = 15.0


class GraphError(Exception):
    """Graph (or its token endpoint) answered with an error status."""

    def __init__(self, status: int, what: str) -> None:
        super().__init__(f"{what}: HTTP {status}")
        self.status = status


@dataclass
class Graph:
    settings: Settings
    _token: tuple[str, float] | None = None
    _catalog: str | None = None
    calls: int = field(default=0)

    @staticmethod
    def wanted(settings: Settings) -> bool:
        """With the bot's app credentials and a tenant (not in dev mode), and GRAPH_API_URL set."""
        return bool(settings.has_teams and settings.teams_tenant_id and settings.graph_api_url)

    @property
    def base(self) -> str:
        return self.settings.graph_api_url.rstrip("/")

    async def _request(self, client: httpx.AsyncClient, method: str, url: str, what: str,
                       **kw: Any) -> httpx.Response:
        self.calls += 1
        response = await client.request(method, url, **kw)
        if response.status_code >= 400 and response.status_code != 409:
            raise GraphError(response.status_code, what)
        return response

    async def token(self, client: httpx.AsyncClient) -> str:
        if self._token is not None and self._token[1] > time.monotonic():
            return self._token[0]
        s = self.settings
        url = f"{s.graph_login_url.rstrip('/')}/{quote(s.teams_tenant_id or '', safe='')}/oauth2/v2.0/token"
        response = await self._request(client, "POST", url, "token", data={
            "client_id": s.teams_app_id, "client_secret": s.teams_app_password, "scope": SCOPE,
            "grant_type": "client_credentials"})
        body = response.json()
        self._token = (str(body["access_token"]), time.monotonic() + max(60, int(body.get("expires_in", 3600))) - 60)
        return self._token[0]

    async def catalog_id(self, client: httpx.AsyncClient, headers: dict[str, str]) -> str:
        """The app's id in the tenant's app catalog: TEAMS_CATALOG_APP_ID, else looked up by the manifest's id."""
        if self.settings.teams_catalog_app_id:
            return self.settings.teams_catalog_app_id
        if self._catalog is None:
            app_id = (self.settings.teams_app_id or "").lower()
            response = await self._request(client, "GET", f"{self.base}/appCatalogs/teamsApps", "catalog",
                                           headers=headers, params={"$filter": f"externalId eq '{app_id}'"})
            found = response.json().get("value") or []
            if not found:
                raise GraphError(404, "catalog")
            self._catalog = str(found[0]["id"])
        return self._catalog

    async def install(self, user_id: str) -> int:
        """Install the app for one user (their Entra object id): 201 installed, 409 it already was."""
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            headers = {"Authorization": f"Bearer {await self.token(client)}"}
            catalog = await self.catalog_id(client, headers)
            response = await self._request(
                client, "POST", f"{self.base}/users/{quote(user_id, safe='')}/teamwork/installedApps", "install",
                headers=headers, json={"teamsApp@odata.bind": f"{self.base}/appCatalogs/teamsApps/{catalog}"})
            return response.status_code
