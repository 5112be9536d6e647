"""The privacy guard for free text (summaries, notes, minutes).

It finds CPR numbers, phone numbers and e-mail addresses here, and dates of birth, street addresses and full
names (storage/pii_words.py), besides the unit's own deny-list.

Free text is refused, not cleaned, when it holds an identifier: the caller tells the user what was found
and where, so a finding carries only its kind and offsets. The matched value is never put in a finding,
an exception or a log line, because those outlive the refused text.

False positives cost a rephrase; false negatives put a CPR number in the database. The patterns lean
towards flagging, except for the unit's own tokens (case references, dates, pseudonyms...), which would
otherwise make every agenda line look like a phone number.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from storage.pii_words import addresses, birth_dates, full_names
from storage.pseudonym import cpr_birth_date

Kind = Literal["cpr", "phone", "email", "dob", "address", "name", "denylist"]

# When two findings overlap, the more specific one is reported (a CPR beats the phone inside it, a date of birth
# the phone-like digits of "født 23021990").
_PRIORITY: dict[str, int] = {"cpr": 0, "email": 1, "dob": 2, "phone": 3, "address": 4, "denylist": 5, "name": 6}

_CPR = re.compile(r"(?<![0-9])[0-9]{6}[- ]?[0-9]{4}(?![0-9])")

_PHONE = re.compile(
    r"""
    (?<![0-9+])(?<![0-9][-./])
    (?:(?:\+45|0045|\(\+45\))\ ?)?
    [2-9](?:[0-9]{7}                 # 12345678
        |[0-9](?:\ [0-9]{2}){3}      # 12 34 56 78
        |[0-9](?:-[0-9]{2}){3}       # 12-34-56-78
        |[0-9]{3}\ [0-9]{4})         # 1234 5678
    (?![0-9])(?![-./][0-9])
    """,
    re.VERBOSE,
)

_EMAIL = re.compile(
    r"(?<![\w.+%-])[\w.+%-]+@[^\W_][\w-]*(?:\.[\w-]+)*\.[^\W\d_]{2,}",
)

# A platform user id in Teams: the Entra object id, a GUID. Its hex groups can look like a CPR or phone number.
_GUID = re.compile(r"(?<![0-9A-Za-z-])[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}(?![0-9A-Za-z-])")

# Tokens the unit writes every day that contain digit runs; they are blanked before the phone search.
_DAY = r"(?:0?[1-9]|[12][0-9]|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_OWN_TOKENS = re.compile(
    rf"""
    (?<![0-9A-Za-z])(?<![0-9][-./:])
    (?:[A-Za-z]{{1,4}}-[0-9]{{4}}-[0-9]{{1,6}}          # case KE-2026-0001, meeting M-2026-001
      |[A-Za-z]{{1,3}}-[0-9]{{1,6}}                    # follow-up F-12
      |[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}}            # ISO date 2026-12-01
      |{_DAY}[./-]{_MONTH}[./-](?:[0-9]{{4}}|[0-9]{{2}})  # 01.12.2026, 1/12-2026
      |[0-9]{{1,2}}:[0-9]{{2}}(?::[0-9]{{2}})?         # time 14:00
      |[0-9A-Za-z]{{4}}-[0-9A-Za-z]{{4}}                # pseudonym 7KQ2-M9XD
      |(?<=subject=)[0-9A-Za-z]{{8}}                   # a pseudonym typed without its dash (4150-6077)
      |<@[A-Za-z0-9._:\-]+                             # platform user id in a mention <@U23456789>
    )
    (?![0-9A-Za-z])(?![-./:][0-9])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Finding:
    """What was found and where; deliberately not the value itself."""

    kind: Kind
    start: int
    end: int


def _blank_guids(text: str) -> str:
    return _GUID.sub(lambda m: "_" * len(m.group()), text)


def _blank_own_tokens(text: str) -> str:
    """Same length, so offsets found in the blanked text are offsets in the original."""
    return _OWN_TOKENS.sub(lambda m: "_" * len(m.group()), _blank_guids(text))


def _denylist_pattern(denylist: Iterable[str]) -> re.Pattern[str] | None:
    """One alternation, longest term first, so "Anna Hansen" wins over "Anna" at the same place."""
    terms = {" ".join(term.split()).lower(): term.split() for term in denylist}
    terms.pop("", None)
    if not terms:
        return None
    alternatives = [
        r"\s+".join(re.escape(word) for word in terms[key])
        for key in sorted(terms, key=lambda t: (-len(t), t))
    ]
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def _candidates(text: str, denylist: Iterable[str]) -> list[Finding]:
    found: list[Finding] = []
    for match in _CPR.finditer(_blank_guids(text)):
        if cpr_birth_date(match.group()) is not None:
            found.append(Finding("cpr", match.start(), match.end()))
    for match in _EMAIL.finditer(text):
        found.append(Finding("email", match.start(), match.end()))
    for match in _PHONE.finditer(_blank_own_tokens(text)):
        found.append(Finding("phone", match.start(), match.end()))
    for kind, detector in (("dob", birth_dates), ("address", addresses), ("name", full_names)):
        found += [Finding(kind, start, end) for start, end in detector(text)]  # type: ignore[arg-type]
    pattern = _denylist_pattern(denylist)
    if pattern is not None:
        for match in pattern.finditer(text):
            found.append(Finding("denylist", match.start(), match.end()))
    return found


def scan(text: str, denylist: Iterable[str] = ()) -> list[Finding]:
    """Every identifier in `text`, sorted by start and non-overlapping, so each can be pointed at once."""
    kept: list[Finding] = []  # disjoint, sorted by start: a neighbour check suffices
    starts: list[int] = []
    ranked = sorted(_candidates(text, denylist), key=lambda f: (_PRIORITY[f.kind], f.start, f.start - f.end))
    for finding in ranked:
        i = bisect.bisect_left(starts, finding.start)
        if (i > 0 and kept[i - 1].end > finding.start) or (i < len(kept) and kept[i].start < finding.end):
            continue
        kept.insert(i, finding)
        starts.insert(i, finding.start)
    return kept
