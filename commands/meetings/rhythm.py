"""A meeting rhythm in words → an RFC 5545 rule and a time of day: the small grammar of `every="…"`.

It reads the words `meeting series list` writes (commands/meetings/changes.py `rule_words`, from the catalogs)
in Danish and English, so what the bot says can be typed back:

    hver torsdag kl. 9            every Thursday at 9
    hver anden torsdag kl. 9.30   every other Thursday at 9:30
    hver 3. uge mandag            every 3 weeks on Monday
    hver tirsdag og torsdag       every Tuesday and Thursday
    hver hverdag kl. 8.15         every weekday at 8:15
    første mandag i måneden       first Monday of the month      (sidste/last: the last one)
    den 15. i hver måned          on day 15 of every month
    hver dag / hver 2. dag        every day / every 2 days

Case, accents and the spelling of ø/æ/å do not matter (`sondag`, `Torsdag`); weekdays may be plural
(`torsdage`, `Thursdays`) or short (`tor`, `thu`). The time is `kl. 9`, `kl 9.30`, `at 9`, `9:30` or `09.30`.
"""

from __future__ import annotations

import re

from commands.messages import CATALOGS, t
from commands.parsing import fold

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_SHORT = ("man", "tir", "ons", "tor", "fre", "lor", "son", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_SET = ("hverdag", "hverdage", "weekday", "weekdays")
_ORDINALS = {"1": 1, "forste": 1, "first": 1, "1st": 1, "anden": 2, "andet": 2, "second": 2, "2nd": 2, "other": 2,
             "tredje": 3, "third": 3, "3rd": 3, "fjerde": 4, "fourth": 4, "4th": 4, "femte": 5, "fifth": 5}
_LAST = {"sidste", "last"}
_MONTH = {"maned", "maneden", "month", "monthly", "manedlig", "maneds", "hvermaned"}
_WEEK = {"uge", "uger", "ugen", "week", "weeks", "weekly", "ugentlig"}
_DAY = {"dag", "dage", "day", "days", "daily", "dagligt", "daglig"}
_TIME = re.compile(r"(?:\b(?:kl\.?|klokken|at)\s*(\d{1,2})(?:[:.](\d{2}))?|\b(\d{1,2})[:.](\d{2}))\s*$")


class RhythmError(ValueError):
    """The words do not make a rhythm; `code` names why (`rhythm.<code>` in the catalog)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _weekday_words() -> dict[str, str]:
    words: dict[str, str] = {}
    for texts in CATALOGS.values():
        names = texts.messages.get("series.weekdays", "").split(",")
        for code, name in zip(DAYS, names, strict=False):
            base = fold(name)
            for form in (base, base + "e", base + "s", base + "es", base + "ne"):
                words.setdefault(form, code)
    for n, short in enumerate(_SHORT):
        words.setdefault(short, DAYS[n % 7])
    return words


def parse(text: str) -> tuple[str, str | None]:
    """`hver anden torsdag kl. 9` → ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", "09:00"); the time is None when the
    words name none. RhythmError when they make no rhythm."""
    raw = " ".join(text.strip().lower().split())
    at = None
    if m := _TIME.search(raw):
        hour, minute = int(m.group(1) or m.group(3)), int(m.group(2) or m.group(4) or 0)
        if hour > 23 or minute > 59:
            raise RhythmError("time")
        at = f"{hour:02d}:{minute:02d}"
        raw = raw[: m.start()]
    tokens = [fold(w) for w in re.split(r"[\s,&+]+", raw.replace(".", ". ")) if fold(w)]
    weekdays = _weekday_words()
    days: list[str] = []
    number: int | None = None
    ordinal: int | None = None
    monthly = weekly = daily = False
    for word in tokens:
        if word in weekdays:
            days.append(weekdays[word])
        elif word in _WEEKDAY_SET:
            days += DAYS[:5]
        elif word in _MONTH:
            monthly = True
        elif word in _WEEK:
            weekly = True
        elif word in _DAY:
            daily = True
        elif word in _LAST:
            ordinal = -1
        elif word.isdigit():
            number = int(word)
        elif word in _ORDINALS:
            ordinal = _ORDINALS[word]
        elif word in ("hver", "every", "each", "alle", "den", "the", "i", "of", "on", "pa", "om", "og", "and",
                      "a", "in", "hvert", "ugens", "weeks'"):
            continue
        else:
            raise RhythmError("word")
    days = list(dict.fromkeys(days))
    if monthly:
        if days:
            nth = ordinal if ordinal is not None else (number or 1)
            if len(days) != 1 or not (nth == -1 or 1 <= nth <= 5):
                raise RhythmError("monthly")
            return f"FREQ=MONTHLY;BYDAY={nth}{days[0]}", at
        day_of_month = number if number is not None else ordinal
        if day_of_month is None or not 1 <= day_of_month <= 31:
            raise RhythmError("monthly")
        return f"FREQ=MONTHLY;BYMONTHDAY={day_of_month}", at
    interval = number if number is not None else (ordinal if ordinal and ordinal > 0 else 1)
    if not 1 <= interval <= 52:
        raise RhythmError("interval")
    if days:
        order = sorted(days, key=DAYS.index)
        head = "FREQ=WEEKLY" + (f";INTERVAL={interval}" if interval > 1 else "")
        return f"{head};BYDAY={','.join(order)}", at
    if daily and not weekly:
        return "FREQ=DAILY" + (f";INTERVAL={interval}" if interval > 1 else ""), at
    raise RhythmError("no_day")


def from_form(weekdays: str, interval: str) -> str:
    """The series form's weekday(s) and «every N weeks» → the rule."""
    days = sorted({d.strip().upper() for d in weekdays.split(",") if d.strip()}, key=DAYS.index)
    n = int(interval or "1")
    return "FREQ=WEEKLY" + (f";INTERVAL={n}" if n > 1 else "") + f";BYDAY={','.join(days)}"


def grammar(lang: str) -> str:
    """The examples a usage error shows."""
    return t(lang, "rhythm.examples")
