"""A file a user attaches to a message in the 1:1 chat (Teams sends its pre-authorised download URL as a
`file.download.info` attachment): the one way a Teams user hands the bot a spreadsheet, for
`unit import cases [check=yes]`. The file is fetched (bounded in size; only over https, or from the
connector's own host in tests) and submitted to the same form the Slack modal submits; nothing is logged of
its name or content."""

from __future__ import annotations

import base64
import logging
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.teams.runtime import TeamsRuntime
from commands.messages import t
from commands.reply import Invocation, Reply

log = logging.getLogger(__name__)
DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
MAX_BYTES = 2 * 1024 * 1024
TIMEOUT_S = 20.0
IMPORT_FORM = "unit.import_cases"  # commands/unit/takeover.py


def attached_file(activity: Any) -> dict[str, str] | None:
    for attachment in getattr(activity, "attachments", None) or []:
        if getattr(attachment, "content_type", None) == DOWNLOAD_INFO:
            content = getattr(attachment, "content", None) or {}
            url = content.get("downloadUrl") if isinstance(content, dict) else None
            if isinstance(url, str) and url:
                return {"url": url, "type": str(content.get("fileType") or "")}
    return None


def takes_file(text: str) -> bool:
    return " ".join(text.lower().split()[:3]) == "unit import cases"


def _trusted(url: str, service_url: str) -> bool:
    parts, connector = urlsplit(url), urlsplit(service_url)
    return parts.scheme == "https" or (parts.hostname, parts.port) == (connector.hostname, connector.port)


async def _download(url: str) -> bytes | None:
    data = bytearray()
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False) as http, \
                http.stream("GET", url) as resp:
            if resp.status_code != 200:
                return None
            async for chunk in resp.aiter_bytes():
                data += chunk
                if len(data) > MAX_BYTES:
                    return None
    except httpx.HTTPError as exc:
        log.warning("attached file not fetched (%s)", type(exc).__name__)
        return None
    return bytes(data)


async def import_attached(rt: TeamsRuntime, inv: Invocation, text: str, attached: dict[str, str],
                          service_url: str) -> Reply:
    data = await _download(attached["url"]) if _trusted(attached["url"], service_url) else None
    if data is None:
        return Reply(text=t(rt.lang, "upload.failed"), ok=False)
    try:
        value = data.decode("utf-8")
        if "\x00" in value:
            raise UnicodeDecodeError("utf-8", data, 0, 1, "binary")
    except UnicodeDecodeError:
        value = "base64:" + base64.b64encode(data).decode("ascii")
    check = "yes" if "check=yes" in text.replace(" ", "").lower() or "check=ja" in text.lower() else "no"
    result = await rt.submit(inv, IMPORT_FORM, {"file": value, "check": check}, {})
    if result.errors:
        return Reply(text="\n".join([t(rt.lang, "teams.form_not_saved"), *result.errors.values()]), ok=False)
    return result.reply or Reply(text=t(rt.lang, "teams.form_not_saved"), ok=False)
