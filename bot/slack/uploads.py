"""Files a user uploads through a modal's `file_input`: the submission names them (view.state.values → files
[{id, …}]); the bot asks files.info for the file's private URL and size, and downloads it with its own token —
bounded in size, and only from Slack's file host (or the Web API's own host, when it is not slack.com)."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

MAX_BYTES = 64 * 1024  # a full profile is some 8 KB
BINARY_TYPES = frozenset({"xlsx"})  # a form that accepts these gets a binary file as `base64:…`
MAX_BINARY_BYTES = 2 * 1024 * 1024  # a unit's spreadsheet of cases to take over
TIMEOUT_S = 10.0
FILE_HOSTS = frozenset({"files.slack.com"})


class UploadError(Exception):
    """A catalog key (`upload.…`) and its parameters: the reason a file could not be read, for the user."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key, self.params = key, params


def file_inputs(state: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """view.state.values → {block id: the uploaded files} for every file_input element."""
    return {block_id: list(element.get("files") or [])
            for block_id, actions in (state or {}).items() for element in actions.values()
            if element.get("type") == "file_input"}


def _trusted(url: str, client: AsyncWebClient) -> bool:
    """The bot token goes only to Slack's file host or to the host its Web API calls go to."""
    parts, api = urlsplit(url), urlsplit(client.base_url)
    if parts.scheme == "https" and parts.hostname in FILE_HOSTS:
        return True
    return (parts.scheme, parts.hostname, parts.port) == (api.scheme, api.hostname, api.port) and \
        api.hostname not in (None, "slack.com")


def accepts_binary(view: dict[str, Any], block_id: str) -> bool:
    """Whether the modal's file input `block_id` declared a binary type (an XLSX spreadsheet)."""
    for block in view.get("blocks") or []:
        if block.get("block_id") == block_id:
            return bool(BINARY_TYPES & set((block.get("element") or {}).get("filetypes") or []))
    return False


async def read_text(client: AsyncWebClient, files: list[dict[str, Any]], limit: int = MAX_BYTES,
                    binary: bool = False) -> str:
    """The one uploaded file as UTF-8 text (or, with `binary`, a file that is not text as `base64:…`);
    UploadError when there is none, it is too big, it cannot be fetched, or it is not text."""
    if not files or not files[0].get("id"):
        raise UploadError("upload.missing")
    try:
        info = (await client.files_info(file=str(files[0]["id"])))["file"] or {}
    except (SlackApiError, aiohttp.ClientError, TimeoutError, KeyError):
        raise UploadError("upload.failed") from None
    size = info.get("size")
    if isinstance(size, int) and size > limit:
        raise UploadError("upload.too_big", limit=limit // 1024)
    url = str(info.get("url_private_download") or info.get("url_private") or "")
    if not _trusted(url, client):
        raise UploadError("upload.failed")
    data = bytearray()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as http, \
                http.get(url, headers={"Authorization": f"Bearer {client.token}"}, allow_redirects=False) as resp:
            if resp.status != 200:
                raise UploadError("upload.failed")
            async for chunk in resp.content.iter_chunked(16 * 1024):
                data += chunk
                if len(data) > limit:
                    raise UploadError("upload.too_big", limit=limit // 1024)
    except (aiohttp.ClientError, TimeoutError):
        raise UploadError("upload.failed") from None
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        text = "\x00"
    if "\x00" in text:
        if binary:
            return "base64:" + base64.b64encode(bytes(data)).decode("ascii")
        raise UploadError("upload.not_text")
    return text.removeprefix("\ufeff")
