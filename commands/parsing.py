"""Turning option values into domain values, with a UsageError naming the option when they don't fit."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo

from commands.errors import UsageError
from storage.pseudonym import parse_pseudonym

E = TypeVar("E", bound=StrEnum)
CASE_REF = re.compile(r"KE-(\d{4})-(\d{4})$", re.IGNORECASE)


def enum_value(enum: type[E], raw: str | None, option: str) -> E:
    if raw is None or raw == "":
        raise UsageError("missing_option", option=option, choices=", ".join(e.value for e in enum))
    for member in enum:
        if member.value.lower() == raw.strip().lower():
            return member
    raise UsageError("bad_choice", option=option, value=raw, choices=", ".join(e.value for e in enum))


def enum_list(enum: type[E], raw: str | None, option: str) -> list[E]:
    if not raw:
        raise UsageError("missing_option", option=option, choices=", ".join(e.value for e in enum))
    return [enum_value(enum, part, option) for part in raw.split(",") if part.strip()]


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().replace(" ", "").replace("-", "").replace("/", "")


def choice(options: tuple[str, ...], raw: str | None, option: str) -> str:
    """Match a configurable vocabulary (districts, indicators) ignoring case, spaces and dashes."""
    if not raw:
        raise UsageError("missing_option", option=option, choices=", ".join(options))
    for candidate in options:
        if _fold(candidate) == _fold(raw):
            return candidate
    raise UsageError("bad_choice", option=option, value=raw, choices=", ".join(options))


def case_ref(raw: str | None) -> str:
    if raw is None:
        raise UsageError("missing_case")
    match = CASE_REF.match(raw.strip())
    if not match:
        raise UsageError("bad_case_ref", value=raw)
    return f"KE-{match.group(1)}-{match.group(2)}"


def pseudonym(raw: str | None) -> str:
    if not raw:
        raise UsageError("missing_option", option="subject", choices="XXXX-XXXX")
    value = parse_pseudonym(raw)
    if value is None:
        raise UsageError("bad_pseudonym", value=raw)
    return value


def yes_no(raw: str | None, option: str) -> bool | None:
    if raw is None:
        return None
    low = raw.strip().lower()
    if low in ("yes", "ja", "y", "j", "true"):
        return True
    if low in ("no", "nej", "n", "false"):
        return False
    raise UsageError("bad_choice", option=option, value=raw, choices="yes, no")


_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d", "%d-%m-%Y %H:%M", "%d.%m.%Y %H:%M",
            "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d %H.%M", "%d.%m.%Y %H.%M")
_RELATIVE = {"today": 0, "i dag": 0, "idag": 0, "yesterday": -1, "i går": -1, "igår": -1}


def local_datetime(raw: str, tz: ZoneInfo, now: datetime, option: str) -> datetime:
    """A local wall-clock time (Europe/Copenhagen) → aware UTC. Dates alone mean 00:00."""
    text = " ".join(raw.strip().lower().split())
    for word, days in _RELATIVE.items():
        if text == word or text.startswith(word + " "):
            rest = text[len(word):].strip() or "00:00"
            base = (now.astimezone(tz) + timedelta(days=days)).date()
            try:
                hm = datetime.strptime(rest.replace(".", ":"), "%H:%M").time()
            except ValueError:
                break
            return _aware(datetime.combine(base, hm), tz, option, raw)
    for fmt in _FORMATS:
        try:
            parsed = datetime.strptime(text.replace("t", "T") if "T" in fmt else text, fmt)
        except ValueError:
            continue
        return _aware(parsed, tz, option, raw)
    raise UsageError("bad_datetime", option=option, value=raw)


def _aware(naive: datetime, tz: ZoneInfo, option: str, raw: str) -> datetime:
    aware = naive.replace(tzinfo=tz)
    roundtrip = aware.astimezone(ZoneInfo("UTC")).astimezone(tz)
    if roundtrip.replace(tzinfo=None) != naive:
        raise UsageError("nonexistent_time", option=option, value=raw)  # inside the spring-forward gap
    return aware.astimezone(ZoneInfo("UTC"))
