"""Dates, times and numbers as a reader of the language writes them (Babel); times in the unit's time zone.

Danish: `3. dec. 2026 kl. 19.37`, `om 47 timer`. English keeps the ISO-like `2026-12-03 19:37`, unambiguous
for the unit's English readers; its relative forms are Babel's (`in 47 hours`). Storage and the command
language stay ISO."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime, format_timedelta, get_datetime_format
from babel.numbers import format_decimal, format_percent

DATETIME = {"da": "d. MMM y 'kl.' HH.mm", "en": "yyyy-MM-dd HH:mm"}
DATE = {"da": "d. MMM y", "en": "yyyy-MM-dd"}
LOCALE = {"da": "da_DK", "en": "en_GB"}


@lru_cache(maxsize=32)
def _lang(lang: str) -> str:
    """da and en as chosen here; a language a unit added (a catalog in commands/locale/) as Babel's data for it
    writes; Danish for a code Babel does not know."""
    if lang in LOCALE:
        return lang
    try:
        Locale.parse(lang)
    except (UnknownLocaleError, ValueError):
        return "da"
    return lang


@lru_cache(maxsize=32)
def _locale(lang: str) -> Locale:
    lang = _lang(lang)
    return Locale.parse(LOCALE.get(lang, lang))


def when(local: datetime, lang: str) -> str:
    """A local instant: `3. dec. 2026 kl. 19.37` (da), `2026-12-03 19:37` (en); another language as Babel's
    medium date and short time (sv: `3 dec. 2026 19:37`)."""
    lang = _lang(lang)
    if lang not in DATETIME:
        locale = _locale(lang)
        date = format_datetime(local, locale.date_formats["medium"].pattern, tzinfo=local.tzinfo, locale=locale)
        time = format_datetime(local, locale.time_formats["short"].pattern, tzinfo=local.tzinfo, locale=locale)
        return get_datetime_format("medium", locale=locale).replace("{1}", date).replace("{0}", time)
    return format_datetime(local, DATETIME[lang], tzinfo=local.tzinfo, locale=_locale(lang))


def day(local: datetime, lang: str) -> str:
    """A local date: `3. dec. 2026` (da), `2026-12-03` (en); another language as Babel's medium date."""
    lang = _lang(lang)
    if lang not in DATE:
        return format_datetime(local, _locale(lang).date_formats["medium"].pattern, tzinfo=local.tzinfo,
                               locale=_locale(lang))
    return format_datetime(local, DATE[lang], tzinfo=local.tzinfo, locale=_locale(lang))


def relative(delta: timedelta, lang: str) -> str:
    """`om 47 timer` / `for 3 timer siden` (da), `in 47 hours` / `3 hours ago` (en): whole hours under three
    days, whole days beyond, minutes under an hour — the unit a deadline is counted in."""
    seconds = abs(delta.total_seconds())
    unit, size = (("day", 86400) if seconds >= 72 * 3600 else ("hour", 3600) if seconds >= 3600
                  else ("minute", 60))
    whole = timedelta(seconds=(seconds // size) * size * (1 if delta.total_seconds() >= 0 else -1))
    return format_timedelta(whole, granularity=unit, threshold=10**9, add_direction=True,
                            locale=_locale(lang))


def number(value: float, lang: str) -> str:
    """`1.234,5` (da), `1,234.5` (en)."""
    return format_decimal(value, locale=_locale(lang))


def percent(fraction: float, lang: str, digits: int = 0) -> str:
    """A share as a percentage: `62 %` (da, with a no-break space), `62%` (en); `digits` decimals."""
    number_part = "#,##0" + ("." + "0" * digits if digits else "")
    if _lang(lang) in LOCALE:
        pattern = number_part + ("\u00a0%" if _lang(lang) == "da" else "%")
    else:  # the language's own pattern (`62 %` in Swedish), with our number of decimals
        pattern = _locale(lang).percent_formats[None].pattern.split(";")[0].replace("#,##0", number_part, 1)
    return format_percent(fraction, pattern, locale=_locale(lang))
