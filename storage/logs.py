"""Logging for every process (server, its work processes, the worker, the console): human-readable lines by
default, one JSON object a line with LOG_FORMAT=json for log shippers.

A line carries the request it belongs to (request id, platform, command name) from context variables the
router sets, and the error id a crash reply showed the user, so support can find the line. Like the metrics,
it lives in the lowest room because the router sets the context. Never a user id, reference or text here.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"
_ERROR_ID = re.compile(r"error_id=([0-9a-f]{8})")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
platform: ContextVar[str | None] = ContextVar("platform", default=None)
command: ContextVar[str | None] = ContextVar("command", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        error_id = getattr(record, "error_id", None)
        if error_id is None:
            found = _ERROR_ID.search(message)
            error_id = found.group(1) if found else None
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "message": message,
            "error_id": error_id, "request_id": request_id.get(), "platform": platform.get(),
            "command": command.get(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = record.exc_info[0].__name__  # the type only: a message may quote user input
        return json.dumps(line, ensure_ascii=False)


def configure(log_format: str = "text", level: int = logging.WARNING) -> None:
    """The root logger's one handler (stderr), in the chosen format; the libraries' own loggers propagate to it."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(log_format == "json")  # a library's warning is a line like any other


def say(message: str) -> None:
    """A line for the operator at start-up (the banner, a refusal to start): plain text on stderr, or a JSON
    line when the logs are JSON."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        logging.getLogger("koordinator").warning(message)
    else:
        print(f"koordinator: {message}", file=sys.stderr)


def uvicorn_log_config(log_format: str) -> dict[str, Any] | None:
    """uvicorn's own logging setup, or None to let its loggers propagate to ours (JSON)."""
    if log_format != "json":
        from uvicorn.config import LOGGING_CONFIG

        return LOGGING_CONFIG
    return None
