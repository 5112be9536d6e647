"""Meeting series: RFC 5545 rules expanded in local wall-clock time, with a Danish-holiday policy.

The rule runs on an aware local `dtstart` (Europe/Copenhagen), so 09:00 stays 09:00 across daylight-saving
changes; instants are converted to UTC only for storage. A holiday either drops the occurrence (`skip`) or
moves it to the next working day at the same local time (`next_workday`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from commands.time.calendar import is_holiday, next_working_day

POLICIES = ("skip", "next_workday")
ALLOWED_PARTS = {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "BYWEEKNO", "BYYEARDAY",
                 "WKST", "COUNT", "UNTIL"}
ALLOWED_FREQ = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
_UNTIL = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$")


class RuleError(ValueError):
    """The rule cannot be used; `code` names why (for the message catalog)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Occurrence:
    """One instance of a series: `original` is the rule's local start; `start` where it is held (None: skipped)."""

    original: datetime  # aware local
    start: datetime | None  # aware local; None when skipped for a holiday

    @property
    def moved(self) -> bool:
        return self.start is not None and self.start != self.original


def normalise_rule(text: str, tz: ZoneInfo) -> str:
    """Validated RRULE text in canonical form (UNTIL as UTC), so it means the same to dateutil and calendars."""
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    parts: dict[str, str] = {}
    for chunk in filter(None, body.split(";")):
        key, sep, value = chunk.partition("=")
        key, value = key.strip().upper(), value.strip().upper()
        if not sep or not value:
            raise RuleError("syntax")
        if key not in ALLOWED_PARTS:
            raise RuleError("part")  # BYHOUR etc.: the time comes from time=, DTSTART from the series
        if key in parts:
            raise RuleError("syntax")
        parts[key] = value
    if parts.get("FREQ") not in ALLOWED_FREQ:
        raise RuleError("freq")
    if "COUNT" in parts and "UNTIL" in parts:
        raise RuleError("syntax")
    if "UNTIL" in parts:
        parts["UNTIL"] = _until_utc(parts["UNTIL"], tz)
    canonical = ";".join(f"{k}={v}" for k, v in [("FREQ", parts.pop("FREQ")), *sorted(parts.items())])
    try:
        rrulestr(canonical, dtstart=datetime(2026, 1, 1, 9, 0, tzinfo=tz))
    except (ValueError, TypeError):
        raise RuleError("syntax") from None
    return canonical


def _until_utc(value: str, tz: ZoneInfo) -> str:
    match = _UNTIL.match(value)
    if not match:
        raise RuleError("syntax")
    y, mo, d, hh, mm, ss, zulu = match.groups()
    try:
        if hh is None:  # a date: the whole local day counts
            local = datetime(int(y), int(mo), int(d), 23, 59, 59, tzinfo=tz)
            instant = local.astimezone(UTC)
        elif zulu:
            instant = datetime(int(y), int(mo), int(d), int(hh), int(mm), int(ss), tzinfo=UTC)
        else:
            instant = datetime(int(y), int(mo), int(d), int(hh), int(mm), int(ss), tzinfo=tz).astimezone(UTC)
    except ValueError:
        raise RuleError("syntax") from None
    return instant.strftime("%Y%m%dT%H%M%SZ")


def valid_start_time(at: time) -> bool:
    """Refuse 02:00–02:59: that hour is missing once a year (spring) and doubled once (autumn)."""
    return at.hour != 2


def build(rule_text: str, dtstart_local: datetime) -> rrule:
    return rrulestr(rule_text, dtstart=dtstart_local)  # type: ignore[return-value]


def first_occurrence(rule_text: str, tz: ZoneInfo, start_day: date, at: time) -> datetime | None:
    """The first instance on or after `start_day`: calendars treat DTSTART as an instance, so it must be one."""
    anchor = datetime.combine(start_day, at, tzinfo=tz)
    rule = build(rule_text, anchor)
    first = rule.after(anchor, inc=True)
    return None if first is None else _wall(first, tz)


def _wall(value: datetime, tz: ZoneInfo) -> datetime:
    """dateutil keeps the tzinfo and the wall clock; re-attach so fold/offset are computed afresh."""
    return datetime.combine(value.date(), value.time(), tzinfo=tz)


def expand(rule_text: str, dtstart_local: datetime, policy: str, categories: tuple[str, ...],
           start: datetime, end: datetime, country: str = "DK") -> list[Occurrence]:
    """Every rule instance whose original local start lies in [start, end), with the holiday policy applied.

    `next_workday` never moves an instance onto a day the series already meets on (it is dropped instead).
    """
    tz = dtstart_local.tzinfo
    assert isinstance(tz, ZoneInfo)
    rule = build(rule_text, dtstart_local)
    lo, hi = start.astimezone(tz), end.astimezone(tz)
    originals = [_wall(v, tz) for v in rule.between(lo, hi, inc=True) if _wall(v, tz) < hi]
    meeting_days = {o.date() for o in originals if not is_holiday(o.date(), categories, country)}
    out: list[Occurrence] = []
    for original in originals:
        day = original.date()
        if not is_holiday(day, categories, country):
            out.append(Occurrence(original, original))
            continue
        if policy == "next_workday":
            moved_day = next_working_day(day + timedelta(days=1), categories, country)
            if moved_day not in meeting_days:
                meeting_days.add(moved_day)
                out.append(Occurrence(original, datetime.combine(moved_day, original.time(), tzinfo=tz)))
                continue
        out.append(Occurrence(original, None))
    return out


def to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def parse_duration(raw: str) -> int | None:
    """`90m`, `1h30m`, `1h`, `1.5h`, `90` → minutes (None when unreadable or outside 5 min – 12 h)."""
    text = raw.strip().lower().replace(" ", "")
    match = re.fullmatch(r"(?:(\d+(?:[.,]\d+)?)(?:h|t))?(?:(\d+)(?:m|min)?)?", text)
    if not text or not match or (match.group(1) is None and match.group(2) is None):
        return None
    hours = float(match.group(1).replace(",", ".")) if match.group(1) else 0.0
    minutes = int(match.group(2)) if match.group(2) else 0
    total = int(round(hours * 60)) + minutes
    return total if 5 <= total <= 12 * 60 else None


def holiday_name(day: date, categories: tuple[str, ...], lang: str, country: str = "DK") -> str:
    """The holiday's name in the bot's language (for telling the secretariat why a date is skipped)."""
    import holidays

    names = holidays.country_holidays(country, years=day.year, categories=categories,
                                      language="da" if lang == "da" else "en_US")
    return str(names.get(day, ""))
