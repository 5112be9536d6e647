"""Pseudonyms for subjects.

A subject with an identifier gets a keyed pseudonym so the same person is recognised across cases
(possible repeat) without the unit ever storing who it is. An unkeyed hash of a CPR number can be
reversed by enumerating ~3.65e8 values per century, so only HMAC with a secret key is used, and the
HMAC itself is never shown: 40 bits of it keep collisions negligible at the unit's volume.
Identifiers never appear in exceptions or logs: errors carry a short code only.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import secrets
import unicodedata
from typing import Literal

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
PSEUDONYM_LENGTH = 8

ErrorCode = Literal["cpr_invalid", "birth_date_invalid", "name_needs_birth_date", "empty"]

_CPR = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{2})[- ]?([0-9])([0-9]{3})")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DMY_DATE = re.compile(r"([0-9]{1,2})([-./])([0-9]{1,2})\2([0-9]{4})")
# Crockford lets people type O for 0 and I/L for 1; U is deliberately absent to avoid accidental words.
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_PSEUDONYM = re.compile(r"([0-9A-Z]{4})[- ]?([0-9A-Z]{4})")


class IdentifierError(ValueError):
    """Raised for an unusable identifier; the message is the code so the value cannot leak into logs."""

    code: ErrorCode

    def __init__(self, code: ErrorCode) -> None:
        super().__init__(code)
        self.code = code


def _cpr_year(yy: int, seventh: int) -> int:
    """The century rule: the 7th digit, not the year digits alone, says which century a CPR is from."""
    if seventh <= 3:
        return 1900 + yy
    if seventh in (4, 9):
        return 2000 + yy if yy <= 36 else 1900 + yy
    return 2000 + yy if yy <= 57 else 1800 + yy


def cpr_birth_date(text: str) -> datetime.date | None:
    """The birth date a CPR-like string encodes, or None.

    A valid date is the only test: the modulus-11 check is unreliable since 2007 and must never reject.
    """
    match = _CPR.fullmatch(text.strip())
    if match is None:
        return None
    dd, mm, yy, seventh, _ = match.groups()
    try:
        return datetime.date(_cpr_year(int(yy), int(seventh)), int(mm), int(dd))
    except ValueError:
        return None


def _parse_birth_date(text: str) -> datetime.date:
    """Accept the formats a Danish caseworker types, so the same person always yields the same ISO date."""
    text = text.strip()
    iso = _ISO_DATE.fullmatch(text)
    dmy = _DMY_DATE.fullmatch(text)
    try:
        if iso is not None:
            return datetime.date(int(iso[1]), int(iso[2]), int(iso[3]))
        if dmy is not None:
            return datetime.date(int(dmy[4]), int(dmy[3]), int(dmy[1]))
    except ValueError:
        pass
    raise IdentifierError("birth_date_invalid")


def _normalise_name(name: str) -> str:
    """Fold the spelling variants of one name (case, width, spacing, hyphens, dots) into one key."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    spaced = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in folded)
    return " ".join(spaced.split())


def normalise_identifier(
    *, cpr: str | None = None, name: str | None = None, birth_date: str | None = None
) -> str:
    """The canonical form that is fed to the HMAC, so typing variants do not split one person in two.

    Blank form fields count as absent. A CPR number, the stronger identifier, wins over name + birth date.
    """
    cpr = (cpr or "").strip()
    name_key = _normalise_name(name or "")
    birth_text = (birth_date or "").strip()
    if cpr:
        if cpr_birth_date(cpr) is None:
            raise IdentifierError("cpr_invalid")
        return "cpr:" + cpr.replace("-", "").replace(" ", "")
    if not name_key and not birth_text:
        raise IdentifierError("empty")
    if not name_key or not birth_text:
        raise IdentifierError("name_needs_birth_date")
    return f"name:{name_key}|{_parse_birth_date(birth_text).isoformat()}"


def _encode(value: int) -> str:
    return "".join(ALPHABET[(value >> shift) & 31] for shift in range(35, -1, -5))


def derived_pseudonym(key: bytes, normalised: str) -> str:
    """Keyed, so knowing a CPR number is not enough to find its pseudonym without the unit's secret."""
    if not key:
        raise ValueError("pseudonym_key_missing")
    digest = hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).digest()
    return _encode(int.from_bytes(digest[:5], "big"))


def random_pseudonym() -> str:
    """For subjects without an identifier: unlinkable by design, so it must not be predictable."""
    return "".join(secrets.choice(ALPHABET) for _ in range(PSEUDONYM_LENGTH))


def parse_pseudonym(text: str) -> str | None:
    """Read a pseudonym as people type it back (any case, with or without the dash, O/I/L slips)."""
    match = _PSEUDONYM.fullmatch(text.strip().upper().translate(_ALIASES))
    if match is None:
        return None
    value = match[1] + match[2]
    return value if all(ch in ALPHABET for ch in value) else None


def format_pseudonym(p: str) -> str:
    """Two groups of four are easier to read aloud in a meeting and to compare by eye."""
    value = parse_pseudonym(p)
    if value is None:
        raise ValueError("pseudonym_invalid")
    return f"{value[:4]}-{value[4:]}"
