"""`GET /calendar/{token}.ics`: a member's meetings for Outlook and Google Calendar to subscribe to.

The route only translates HTTP: the token check and the calendar come from commands.feed. The token is a
secret in a URL, so access logs get it masked, and every answer asks caches not to keep it.
"""

from __future__ import annotations

import asyncio
import logging
import re

from fastapi import FastAPI, Response

from commands.context import Services
from commands.meetings.feed import calendar_for_token

_TOKEN_IN_PATH = re.compile(r"(/calendar/)[^/\s\"?]+(\.ics)")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,128}")  # what token_for makes; anything else is not looked up
HEADERS = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"}


class MaskFeedTokens(logging.Filter):
    """Uvicorn's access log writes the request path: keep the feed token out of it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(_TOKEN_IN_PATH.sub(r"\1…\2", a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = _TOKEN_IN_PATH.sub(r"\1…\2", record.msg)
        return True


def register(app: FastAPI, svc: Services) -> None:
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, MaskFeedTokens) for f in access_log.filters):
        access_log.addFilter(MaskFeedTokens())

    @app.get("/calendar/{token}.ics", include_in_schema=False)
    async def calendar_feed(token: str) -> Response:
        body = await asyncio.to_thread(calendar_for_token, svc, token) if _TOKEN.fullmatch(token) else None
        if body is None:
            return Response(status_code=404, content="not found\n", media_type="text/plain", headers=HEADERS)
        return Response(content=body, media_type="text/calendar; charset=utf-8",
                        headers={**HEADERS, "Content-Disposition": 'inline; filename="koordinator.ics"'})
