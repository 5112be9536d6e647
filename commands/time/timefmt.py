"""Dates, times and numbers as a reader of the language writes them (Babel); times in the unit's time zone.

Danish: `3. dec. 2026 kl. 19.37`, `om 47 timer`, `66,7 %`. English in the en_GB medium style that Danish
public-sector English readers expect: `3 Dec 2026, 19:37`, `in 47 hours`, `66.7%`. A language a unit adds
(a catalog in commands/locale/) is written as Babel's data for it writes (sv: `3 dec. 2026 19:37`). Storage
and the command language stay ISO.

Babel's Locale objects and parsed patterns are made once per process (a locale parse costs about a third
of a formatting call); every formatting call below reuses them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.dates import DateTimePattern, parse_pattern
from babel.numbers import format_decimal, format_percent

LOCALE = {"da": "da_DK", "en": "en_GB"}
# Danish writes the clock with `kl.` and a full stop; English is en_GB's medium date, a comma, the short time.
DATETIME = {"da": "d. MMM y 'kl.' HH.mm", "en": "d MMM y, HH:mm"}
DATE = {"da": "d. MMM y", "en": "d MMM y"}
LONG_DATE = {"da": "EEEE 'den' d. MMMM y", "en": "EEEE d MMMM y"}  # `torsdag den 3. december 2026`
CLOCK = {"da": "'kl.' H.mm", "en": "HH:mm"}  # `kl. 9.00`, `09:00`
TIME = {"da": "HH.mm", "en": "HH:mm"}


@cache
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


def locale(lang: str) -> Locale:
    """The Babel locale for a language code (an unknown one reads Danish), parsed once per process."""
    return _locale(_lang(lang))


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(LOCALE.get(lang, lang))


@cache
def _own_patterns(lang: str) -> dict[str, str]:
    """An added language's patterns from Babel's data for it: medium date, short time (sv: `3 dec. 2026 19:37`)."""
    loc = _locale(lang)
    date_p, time_p = loc.date_formats["medium"].pattern, loc.time_formats["short"].pattern
    when_p = loc.datetime_formats["medium"].replace("{1}", date_p).replace("{0}", time_p)
    return {"when": when_p, "day": date_p, "long": loc.date_formats["full"].pattern, "clock": time_p,
            "time": time_p}


@cache
def _pattern(pattern: str) -> DateTimePattern:
    return parse_pattern(pattern)


PATTERNS = {"when": DATETIME, "day": DATE, "long": LONG_DATE, "clock": CLOCK, "time": TIME}


def _apply(value: date, kind: str, lang: str) -> str:
    lang = _lang(lang)
    pattern = PATTERNS[kind][lang] if lang in LOCALE else _own_patterns(lang)[kind]
    return _pattern(pattern).apply(value, locale(lang))


def when(local: datetime, lang: str) -> str:
    """A local instant: `3. dec. 2026 kl. 19.37` (da), `3 Dec 2026, 19:37` (en)."""
    return _apply(local, "when", lang)


def day(local: date, lang: str) -> str:
    """A local date (a datetime already in local time, or a date): `3. dec. 2026` (da), `3 Dec 2026` (en)."""
    return _apply(local, "day", lang)


def long_day(local: date, lang: str) -> str:
    """The date written out, as in a document's title: `torsdag den 3. december 2026`, `Thursday 3 December 2026`."""
    return _apply(local, "long", lang)


def clock(local: datetime, lang: str) -> str:
    """The time of day: `kl. 9.00` (da), `09:00` (en)."""
    return _apply(local, "clock", lang)


def span(start: datetime, end: datetime, lang: str) -> str:
    """A meeting's time: `3. dec. 2026 kl. 09.00–10.30` (da), `3 Dec 2026, 09:00–10:30` (en); an end on
    another day is written in full."""
    if end.date() != start.date():
        return f"{when(start, lang)}–{when(end, lang)}"
    return f"{when(start, lang)}–{_apply(end, 'time', lang)}"


def duration(delta: timedelta, lang: str) -> str:
    """A length of time in the catalog's words with plural forms: `26 dage og 6 timer`, `5 timer`,
    `40 minutter` (da); `1 day and 2 hours` (en). Days and hours where days fit, whole hours under a day,
    minutes under an hour."""
    from commands.messages import t, tn  # the catalogs; messages does not import timefmt

    seconds = int(abs(delta.total_seconds()))
    days, hours, minutes = seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60
    if days and hours:
        return t(lang, "duration.and", first=tn(lang, "n.days", days), second=tn(lang, "n.hours", hours))
    if days:
        return tn(lang, "n.days", days)
    if hours:
        return tn(lang, "n.hours", hours)
    return tn(lang, "n.minutes", minutes)


def relative(delta: timedelta, lang: str) -> str:
    """`om 1 dag og 23 timer` / `for 3 timer siden` (da), `in 1 day and 23 hours` / `3 hours ago` (en): the
    time to or since a deadline, in days and hours (commands/timefmt.duration)."""
    from commands.messages import t

    key = "duration.in" if delta.total_seconds() >= 0 else "duration.ago"
    return t(lang, key, duration=duration(delta, lang))


def number(value: float, lang: str) -> str:
    """`1.234,5` (da), `1,234.5` (en)."""
    return format_decimal(value, locale=locale(lang))


@cache
def _percent_pattern(lang: str, digits: int) -> str:
    number_part = "#,##0" + ("." + "0" * digits if digits else "")
    if _lang(lang) in LOCALE:
        return number_part + ("\u00a0%" if _lang(lang) == "da" else "%")
    # an added language's own pattern (`62 %` in Swedish), with our number of decimals
    return locale(lang).percent_formats[None].pattern.split(";")[0].replace("#,##0", number_part, 1)


def percent(fraction: float, lang: str, digits: int = 0) -> str:
    """A share as a percentage: `62 %` (da, with a no-break space), `62%` (en); `digits` decimals."""
    return format_percent(fraction, _percent_pattern(lang, digits), locale=locale(lang))
