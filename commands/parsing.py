"""Turning option values into domain values, with a UsageError naming the option when they don't fit."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from commands.errors import UsageError
from commands.tokenizer import Args
from storage import enums
from storage.pseudonym import parse_pseudonym

E = TypeVar("E", bound=StrEnum)
# Which words of the catalog (`messages.label`, the .po entries with msgctxt) a vocabulary's codes are shown with.
LABEL_KINDS: dict[type[StrEnum], str] = {
    enums.Role: "role", enums.Org: "org", enums.Severity: "severity", enums.Track: "track", enums.AgeBand: "age",
    enums.Source: "source", enums.Basis: "basis", enums.Level: "level", enums.CloseReason: "close_reason",
    enums.OfferKind: "offer_kind", enums.OfferState: "offer_state", enums.CaseState: "state",
    enums.Relation: "relation", enums.CourseResult: "course_result", enums.DisclosureCategory: "disclosure",
}
# An option name in a usage line → the kind of its choices (for `help <command>`).
OPTION_KINDS: dict[str, type[StrEnum]] = {
    "severity": enums.Severity, "track": enums.Track, "age": enums.AgeBand, "source": enums.Source,
    "basis": enums.Basis, "level": enums.Level, "reason": enums.CloseReason, "kind": enums.OfferKind,
    "org": enums.Org, "to": enums.Org, "role": enums.Role,
    "relation": enums.Relation, "result": enums.CourseResult, "what": enums.DisclosureCategory,
}
CASE_REF = re.compile(r"KE-(\d{4})-(\d{4})$", re.IGNORECASE)


def fold(text: str) -> str:
    """How a typed choice is compared: case, accents, æ/ø/å, spaces, dashes and dots do not matter."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("ø", "o").replace("æ", "ae")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[\s\-/._]", "", text)


# An option whose choices have words in the catalog, by the option's name (for vocabularies of the profile).
_OPTION_WORDS = {"source": "source", "basis": "basis", "indicators": "indicator", "org": "org", "to": "org"}


def _spellings(code: str, kind: str, names: Mapping[str, Iterable[str]] | None) -> set[str]:
    from commands.messages import CATALOGS  # the words of every language, as typed by anyone

    out = {fold(code)}
    if kind:
        out |= {fold(texts.words.get(kind, {}).get(code, code)) for texts in CATALOGS.values()}
    out |= {fold(name) for name in (names or {}).get(code, ())}
    return {s for s in out if s}


def resolve(codes: Sequence[str], raw: str | None, option: str, kind: str = "",
            names: Mapping[str, Iterable[str]] | None = None) -> str:
    """The one reading of a choice: the code, or its word in any language (`source=skole`, `org=politiet`,
    `district=norrebro`), ignoring case and diacritics. A near miss names the nearest choice
    (`suggestion`, a code); the choices themselves travel as codes with `labels_kind`, and the reply lists
    them as the reader's words."""
    kind = kind or _OPTION_WORDS.get(option, "")
    listed = ", ".join(codes)
    if raw is None or raw.strip() == "":
        raise UsageError("missing_option", option=option, choices=listed, labels_kind=kind)
    wanted = fold(raw)
    for code in codes:
        if fold(code) == wanted:
            return code
    spelled: dict[str, str] = {}
    for code in codes:
        for spelling in _spellings(code, kind, names):
            spelled.setdefault(spelling, code)
    if wanted in spelled:
        return spelled[wanted]
    near = difflib.get_close_matches(wanted, list(spelled), n=1, cutoff=0.7)
    raise UsageError("bad_choice", option=option, value=raw[:40], choices=listed, labels_kind=kind,
                     suggestion=spelled[near[0]] if near else "")


def enum_value(enum: type[E], raw: str | None, option: str) -> E:
    return enum(resolve(tuple(e.value for e in enum), raw, option, LABEL_KINDS.get(enum, "")))


def org_code(codes: tuple[str, ...], raw: str | None, option: str, profile: Any = None) -> str:
    """An org of the unit's profile (`org=SSP`, `to=sof`, `org=politiet`): the code, the catalog's word or
    the profile's own name for it in any language."""
    names = {c: (o.name.da, o.name.en) for c in codes if (o := profile.org(c)) is not None} if profile else None
    return resolve(codes, raw, option, "org", names)


def enum_list(enum: type[E], raw: str | None, option: str) -> list[E]:
    if not raw:
        raise UsageError("missing_option", option=option, choices=", ".join(e.value for e in enum),
                         labels_kind=LABEL_KINDS.get(enum, ""))
    return [enum_value(enum, part, option) for part in raw.split(",") if part.strip()]


def choice(options: tuple[str, ...], raw: str | None, option: str) -> str:
    """A configurable vocabulary (districts, sources, indicators): the value or its word, as `resolve`."""
    return resolve(tuple(options), raw, option)


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


def due_datetime(raw: str, tz: ZoneInfo, now: datetime, option: str) -> datetime:
    """A follow-up's due time: as local_datetime, but a date alone means the start of that working day (08:00),
    when reminders go out — not midnight, which a reader sees as "kl. 00.00"."""
    due = local_datetime(raw, tz, now, option)
    local = due.astimezone(tz)
    if local.time() == time(0, 0) and not re.search(r"\d[:.]\d\d\s*$", raw.strip()):
        due = _aware(datetime.combine(local.date(), time(8, 0)), tz, option, raw)
    return due


# Natural dates for meetings. local_datetime above stays as it is (intake and follow-ups rely on it).
_DAY_WORDS = {"today": 0, "i dag": 0, "idag": 0, "tomorrow": 1, "i morgen": 1, "imorgen": 1,
              "day after tomorrow": 2, "overmorgen": 2, "i overmorgen": 2}
_WEEKDAYS = {"monday": 0, "mandag": 0, "tuesday": 1, "tirsdag": 1, "wednesday": 2, "onsdag": 2,
             "thursday": 3, "torsdag": 3, "friday": 4, "fredag": 4, "saturday": 5, "lørdag": 5, "lordag": 5,
             "sunday": 6, "søndag": 6, "sondag": 6}
_MONTHS = {"jan": 1, "january": 1, "januar": 1, "feb": 2, "february": 2, "februar": 2, "mar": 3, "march": 3,
           "marts": 3, "apr": 4, "april": 4, "may": 5, "maj": 5, "jun": 6, "june": 6, "juni": 6, "jul": 7,
           "july": 7, "juli": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9, "oct": 10,
           "october": 10, "okt": 10, "oktober": 10, "nov": 11, "november": 11, "dec": 12, "december": 12}
_TIME = re.compile(r"(?:kl\.?\s*|at\s+)?(\d{1,2})(?:[:.](\d{2}))?$")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY = re.compile(r"(\d{1,2})[.-](\d{1,2})[.-](\d{4})$")
_DAY_MONTH = re.compile(r"(\d{1,2})\.?\s+([a-zæøå]+)\.?(?:\s+(\d{4}))?$")
_ISO_T = re.compile(r"\d{4}-\d{2}-\d{2}[tT]\d")
_MONTH_DAY = re.compile(r"([a-zæøå]+)\.?\s+(\d{1,2})(?:,?\s+(\d{4}))?$")


def natural_datetime(raw: str, tz: ZoneInfo, now: datetime, option: str, week_of: date | None = None) -> datetime:
    """What people type for a meeting (`tomorrow 14:00`, `i morgen 14:00`, `mandag 9:30`, `2026-12-01 09:30`,
    `1. december 14:00`) → aware UTC. Refuses rather than guesses: no time given, `next`/`næste`, slashed
    dates (1/2 is 1 February here and 2 January elsewhere), a weekday that is today, a doubled DST hour.

    `week_of`: a weekday names that day in the week (Monday to Sunday) of this date — what a weekday means
    when a meeting is moved ("fredag" for a Thursday meeting is the next day, not this week's Friday)."""
    text = raw.strip()
    if _ISO_T.match(text):
        text = text[:10] + " " + text[11:]
    text = " ".join(text.lower().split())
    text = text.replace(" kl. ", " kl.").replace(" kl ", " kl")
    if "/" in text or re.search(r"\b(next|næste|naeste|kommende)\b", text):
        raise UsageError("ambiguous_date", option=option, value=raw)
    head, _, last = text.rpartition(" ")
    match = _TIME.match(last)
    if not head or not match or (":" not in last and "." not in last and not last.startswith("kl")):
        raise UsageError("missing_time", option=option, value=raw)
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        raise UsageError("bad_datetime", option=option, value=raw)
    day = _natural_day(head.strip().removesuffix(" at").removesuffix(" den"), tz, now, option, raw, week_of)
    naive = datetime.combine(day, datetime.min.time()).replace(hour=hour, minute=minute)
    first = naive.replace(tzinfo=tz, fold=0).astimezone(ZoneInfo("UTC"))
    second = naive.replace(tzinfo=tz, fold=1).astimezone(ZoneInfo("UTC"))
    if first != second:
        if first.astimezone(tz).replace(tzinfo=None) != naive:
            raise UsageError("nonexistent_time", option=option, value=raw)  # spring-forward gap
        raise UsageError("ambiguous_time", option=option, value=raw)  # the autumn hour happens twice
    return first


def _natural_day(text: str, tz: ZoneInfo, now: datetime, option: str, raw: str, week_of: date | None = None
                 ) -> date:
    today = now.astimezone(tz).date()
    text = text.removeprefix("on ").removeprefix("på ").removeprefix("den ").strip()
    try:
        if text in _DAY_WORDS:
            return today + timedelta(days=_DAY_WORDS[text])
        if text in _WEEKDAYS and week_of is not None:
            return week_of + timedelta(days=_WEEKDAYS[text] - week_of.weekday())
        if text in _WEEKDAYS:
            ahead = (_WEEKDAYS[text] - today.weekday()) % 7
            if ahead == 0:  # today, or a week from today?
                raise UsageError("ambiguous_date", option=option, value=raw)
            return today + timedelta(days=ahead)
        if m := _ISO_DATE.match(text):
            return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3))).date()
        if m := _DMY.match(text):
            return datetime(int(m.group(3)), int(m.group(2)), int(m.group(1))).date()
        m = _DAY_MONTH.match(text)
        day_s, month_s, year_s = (m.group(1), m.group(2), m.group(3)) if m else (None, None, None)
        if m is None and (m2 := _MONTH_DAY.match(text)):
            day_s, month_s, year_s = m2.group(2), m2.group(1), m2.group(3)
        if day_s and month_s in _MONTHS:
            year = int(year_s) if year_s else today.year
            found = datetime(year, _MONTHS[month_s], int(day_s)).date()
            if not year_s and found < today:
                found = found.replace(year=year + 1)
            return found
    except ValueError:
        raise UsageError("bad_datetime", option=option, value=raw) from None
    raise UsageError("bad_datetime", option=option, value=raw)


def only_options(args: Args, allowed: set[str], *, words: int = 0, texts: int = 0) -> None:
    unknown = sorted(set(args.options) - allowed)
    if unknown:
        raise UsageError("unknown_option", option=unknown[0],
                         allowed=", ".join(f"`{name}=`" for name in sorted(allowed)) or "—")
    if len(args.words) > words:
        raise UsageError("unexpected_word", word=args.words[words][:40])
    if len(args.texts) > texts:
        raise UsageError("unexpected_text")
