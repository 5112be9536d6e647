import datetime as dt
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.pii import Finding, scan


def kinds(text: str, denylist: tuple[str, ...] = ()) -> list[str]:
    return [f.kind for f in scan(text, denylist)]


def spans(text: str, denylist: tuple[str, ...] = ()) -> list[str]:
    return [text[f.start : f.end] for f in scan(text, denylist)]


# --- CPR -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cpr",
    [
        "150565-0123",  # 7th digit 0 -> 1965
        "241299-3456",  # 7th digit 3 -> 1999
        "010110-4123",  # 7th digit 4, YY <= 36 -> 2010
        "010150-4123",  # 7th digit 4, YY > 36 -> 1950
        "290220-5123",  # 7th digit 5, YY <= 57 -> 2020 (leap day)
        "290260-5123",  # 7th digit 5, YY > 57 -> 1860 (leap day)
        "311236-9999",  # 7th digit 9, YY 36 -> 2036
        "010137-9000",  # 7th digit 9, YY 37 -> 1937
        "290200-4000",  # 2000 is a leap year
    ],
)
@pytest.mark.parametrize("separator", ["-", "", " "])
def test_valid_cpr_is_found_in_every_century_and_layout(cpr: str, separator: str) -> None:
    written = cpr.replace("-", separator)
    text = f"Borgeren har CPR {written}, jf. samtale."
    assert scan(text) == [Finding("cpr", 17, 17 + len(written))]


@pytest.mark.parametrize(
    "not_cpr",
    [
        "310299-1234",  # 31 February
        "300220-1234",  # 30 February
        "290200-0123",  # 1900 was not a leap year
        "320101-1234",  # day 32
        "011301-1234",  # month 13
        "000101-1234",  # day 0
        "010100-0000" + "0",  # eleven digits
    ],
)
def test_cpr_like_number_with_impossible_date_is_not_flagged(not_cpr: str) -> None:
    assert kinds(f"nr. {not_cpr} ") == []


def test_cpr_without_modulus_11_is_still_flagged() -> None:
    # 0101901235: weighted sum 4*0+3*1+2*0+7*1+6*9+5*0+4*1+3*2+2*3+1*5 = 85, not divisible by 11.
    assert kinds("0101901235") == ["cpr"]


def test_cpr_inside_a_longer_digit_run_is_not_flagged() -> None:
    assert kinds("kontonummer 123101021234") == []
    assert kinds("ordre 01020343210") == []


def test_ten_digit_cpr_is_reported_as_cpr_not_phone() -> None:
    assert kinds("2102034321") == ["cpr"]
    assert kinds("210203 4321") == ["cpr"]


def test_cpr_with_double_space_is_not_one_number() -> None:
    assert kinds("010203  4321") == []


# --- phone -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "22345678",
        "22 34 56 78",
        "2234 5678",
        "22-34-56-78",
        "+45 22345678",
        "+4522345678",
        "0045 22 34 56 78",
        "004522345678",
        "(+45) 2234 5678",
        "(+45)22-34-56-78",
        "98765432",
    ],
)
def test_danish_phone_number_is_found_with_its_prefix(phone: str) -> None:
    text = f"Ring til {phone} i dag."
    assert scan(text) == [Finding("phone", 9, 9 + len(phone))]


@pytest.mark.parametrize(
    "not_phone",
    [
        "12345678",  # Danish numbers never start with 0 or 1
        "02345678",
        "2345678",  # seven digits
        "234567890",  # nine digits
        "2234567890123",
        "22 34 56",
    ],
)
def test_wrong_length_or_first_digit_is_not_a_phone(not_phone: str) -> None:
    assert kinds(f"nr {not_phone} ") == []


@pytest.mark.parametrize(
    "token",
    [
        "KE-2026-0001",
        "M-2026-001",
        "2026-12-01",
        "14:00",
        "14:00:30",
        "01.12.2026",
        "1/12-2026",
        "31-12-2026",
        "2026",
        "2025-2026",
        "7KQ2-M9XD",
        "7kq2-m9xd",
        "9999-2222",
        "F-12",
    ],
)
def test_the_units_own_tokens_are_not_flagged(token: str) -> None:
    assert kinds(f"Se {token}.") == []


def test_a_whole_agenda_line_is_clean() -> None:
    line = (
        "Møde M-2026-001 den 2026-12-01 kl. 14:00 (ellers 01.12.2026 el. 1/12-2026): "
        "sag KE-2026-0001, subjekt 7KQ2-M9XD, opfølgning F-12, år 2026."
    )
    assert scan(line) == []


def test_phone_next_to_own_tokens_is_still_found_at_the_right_offset() -> None:
    text = "KE-2026-0001 14:00 22 34 56 78 2026-12-01"
    assert scan(text) == [Finding("phone", 19, 30)]


def test_two_year_like_groups_are_treated_as_a_phone() -> None:
    # "2025 2026" is a valid mobile layout: refusing costs a rephrase ("2025-2026"), missing a number more.
    assert kinds("2025 2026") == ["phone"]


# --- e-mail ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    ["søren@kommune.dk", "anna.hansen+ssp@kk.dk", "x_y-z@æblegård.dk", "post@sub.domæne.co.uk", "a@b.museum"],
)
def test_email_address_is_found(email: str) -> None:
    text = f"Skriv til <{email}>."
    assert scan(text) == [Finding("email", 11, 11 + len(email))]


@pytest.mark.parametrize("not_email", ["a@b", "@kommune.dk", "søren@", "foo@bar.1"])
def test_incomplete_address_is_not_an_email(not_email: str) -> None:
    assert kinds(not_email) == []


def test_digits_in_an_email_are_one_email_finding() -> None:
    assert kinds("22345678@sms.dk") == ["email"]


# --- deny-list -------------------------------------------------------------------------------------------


def test_denylist_is_case_insensitive_and_whole_word() -> None:
    denylist = ("Blå Gruppe", "Åse")
    text = "blå  GRUPPE mødes; Åse kom, Åsen og xÅse og Blå Gruppen ikke."
    assert spans(text, denylist) == ["blå  GRUPPE", "Åse"]
    assert kinds(text, denylist) == ["denylist", "denylist"]


def test_denylist_prefers_the_longest_term_and_ignores_blank_terms() -> None:
    assert spans("Anna Hansen kom", ("Anna", "anna hansen", "", "   ")) == ["Anna Hansen"]


def test_denylist_term_with_regex_characters_is_literal() -> None:
    assert spans("a.b og axb", ("a.b",)) == ["a.b"]


def test_empty_denylist_finds_nothing() -> None:
    assert scan("Blå Gruppe") == []  # ("Anna Hansen" is a full name now: tests/storage/test_pii_words.py)


# --- combined --------------------------------------------------------------------------------------------


def test_findings_are_sorted_non_overlapping_with_offsets() -> None:
    text = "Hansen: anna@kk.dk, 22 34 56 78 og 010203-4321."
    findings = scan(text, ("hansen", "anna"))
    assert [(f.kind, text[f.start : f.end]) for f in findings] == [
        ("denylist", "Hansen"),
        ("email", "anna@kk.dk"),
        ("phone", "22 34 56 78"),
        ("cpr", "010203-4321"),
    ]


def test_more_specific_finding_wins_an_overlap() -> None:
    text = "anna@kk.dk og anna"
    assert scan(text, ("anna", "kk")) == [Finding("email", 0, 10), Finding("denylist", 14, 18)]


def test_finding_never_carries_the_value() -> None:
    findings = scan("010203-4321 søren@kommune.dk 22345678")
    assert len(findings) == 3
    for value in ("0102", "4321", "søren", "2234"):
        assert value not in repr(findings)


# --- properties ------------------------------------------------------------------------------------------


@given(st.text(), st.lists(st.text(max_size=20), max_size=5))
def test_scan_never_raises_and_returns_sorted_disjoint_findings(text: str, denylist: list[str]) -> None:
    findings = scan(text, denylist)
    for finding in findings:
        assert 0 <= finding.start < finding.end <= len(text)
    for before, after in zip(findings, findings[1:], strict=False):
        assert before.end <= after.start


def seventh_digits(year: int) -> list[int]:
    """Which 7th digits can encode `year`, written out from NOTES.md as a table rather than a formula."""
    if 1858 <= year <= 1899:
        return [5, 6, 7, 8]
    if 1900 <= year <= 1936:
        return [0, 1, 2, 3]
    if 1937 <= year <= 1999:
        return [0, 1, 2, 3, 4, 9]
    if 2000 <= year <= 2036:
        return [4, 5, 6, 7, 8, 9]
    return [5, 6, 7, 8]  # 2037-2057


@st.composite
def cprs(draw: st.DrawFn) -> str:
    born = draw(st.dates(min_value=dt.date(1858, 1, 1), max_value=dt.date(2057, 12, 31)))
    seventh = draw(st.sampled_from(seventh_digits(born.year)))
    serial = draw(st.integers(min_value=0, max_value=999))
    separator = draw(st.sampled_from(["", "-", " "]))
    return f"{born:%d%m}{born.year % 100:02d}{separator}{seventh}{serial:03d}"


letters = st.text(alphabet=string.ascii_letters + "æøåÆØÅ ,.", max_size=30)


@given(letters, cprs(), letters)
def test_any_valid_cpr_in_letters_is_found(before: str, cpr: str, after: str) -> None:
    text = before + cpr + after
    assert Finding("cpr", len(before), len(before) + len(cpr)) in scan(text)


@pytest.mark.parametrize("typed", ["subject=4150-6077", "subject=41506077"])
def test_an_all_digit_pseudonym_is_not_a_phone_number_with_or_without_its_dash(typed: str) -> None:
    """About one pseudonym in ten thousand is all digits; a member may type it back without the dash."""
    assert scan(f"mentor log KE-2026-0001 {typed} kind=talk") == []


def test_eight_digits_elsewhere_are_still_a_phone_number() -> None:
    assert [f.kind for f in scan('case note KE-2026-0001 "ring 41506077"')] == ["phone"]
    assert [f.kind for f in scan("owner=41506077")] == ["phone"]
