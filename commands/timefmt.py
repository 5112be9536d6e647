"""Dates, times and numbers as a reader of the language writes them (Babel); times in the unit's time zone.

Danish: `3. dec. 2026 kl. 19.37`, `om 47 timer`. English keeps the ISO-like `2026-12-03 19:37`, unambiguous
for the unit's English readers; its relative forms are Babel's (`in 47 hours`). Storage and the command
language stay ISO."""

from __future__ import annotations

from datetime import datetime, timedelta

from babel.dates import format_datetime, format_timedelta
from babel.numbers import format_decimal, format_percent

DATETIME = {"da": "d. MMM y 'kl.' HH.mm", "en": "yyyy-MM-dd HH:mm"}
DATE = {"da": "d. MMM y", "en": "yyyy-MM-dd"}
LOCALE = {"da": "da_DK", "en": "en_GB"}


def _lang(lang: str) -> str:
    return lang if lang in DATETIME else "da"


def when(local: datetime, lang: str) -> str:
    """A local instant: `3. dec. 2026 kl. 19.37` (da), `2026-12-03 19:37` (en)."""
    lang = _lang(lang)
    return format_datetime(local, DATETIME[lang], tzinfo=local.tzinfo, locale=LOCALE[lang])


def day(local: datetime, lang: str) -> str:
    """A local date: `3. dec. 2026` (da), `2026-12-03` (en)."""
    lang = _lang(lang)
    return format_datetime(local, DATE[lang], tzinfo=local.tzinfo, locale=LOCALE[lang])


def relative(delta: timedelta, lang: str) -> str:
    """`om 47 timer` / `for 3 timer siden` (da), `in 47 hours` / `3 hours ago` (en): whole hours under three
    days, whole days beyond, minutes under an hour — the unit a deadline is counted in."""
    seconds = abs(delta.total_seconds())
    unit, size = (("day", 86400) if seconds >= 72 * 3600 else ("hour", 3600) if seconds >= 3600
                  else ("minute", 60))
    whole = timedelta(seconds=(seconds // size) * size * (1 if delta.total_seconds() >= 0 else -1))
    return format_timedelta(whole, granularity=unit, threshold=10**9, add_direction=True,
                            locale=LOCALE[_lang(lang)])


def number(value: float, lang: str) -> str:
    """`1.234,5` (da), `1,234.5` (en)."""
    return format_decimal(value, locale=LOCALE[_lang(lang)])


def percent(fraction: float, lang: str, digits: int = 0) -> str:
    """A share as a percentage: `62 %` (da, with a no-break space), `62%` (en); `digits` decimals."""
    number_part = "#,##0" + ("." + "0" * digits if digits else "")
    sign = "\u00a0%" if _lang(lang) == "da" else "%"
    return format_percent(fraction, number_part + sign, locale=LOCALE[_lang(lang)])
