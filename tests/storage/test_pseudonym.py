import datetime as dt
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.pseudonym import (
    ALPHABET,
    IdentifierError,
    cpr_birth_date,
    derived_pseudonym,
    format_pseudonym,
    normalise_identifier,
    parse_pseudonym,
    random_pseudonym,
)

KEY = b"test-key-not-secret"

# --- cpr_birth_date --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cpr", "born"),
    [
        ("150565-0123", dt.date(1965, 5, 15)),
        ("241299-3456", dt.date(1999, 12, 24)),
        ("010110-4123", dt.date(2010, 1, 1)),
        ("010150-4123", dt.date(1950, 1, 1)),
        ("290220-5123", dt.date(2020, 2, 29)),
        ("290260-8123", dt.date(1860, 2, 29)),
        ("311236-9999", dt.date(2036, 12, 31)),
        ("010137-9000", dt.date(1937, 1, 1)),
        ("010157-7000", dt.date(2057, 1, 1)),
        ("010158-7000", dt.date(1858, 1, 1)),
    ],
)
def test_century_rule_gives_the_birth_date(cpr: str, born: dt.date) -> None:
    assert cpr_birth_date(cpr) == born
    assert cpr_birth_date(cpr.replace("-", "")) == born
    assert cpr_birth_date(cpr.replace("-", " ")) == born


@pytest.mark.parametrize(
    "text",
    [
        "310299-1234",
        "290200-0123",
        "000101-1234",
        "011301-1234",
        "01020-34321",
        "010203--4321",
        "010203  4321",
        "01020343211",
        "010203-432",
        "0102034321x",
        "abcdef-ghij",
        "",
    ],
)
def test_not_cpr_like_gives_none(text: str) -> None:
    assert cpr_birth_date(text) is None


# --- normalise_identifier --------------------------------------------------------------------------------


def test_cpr_layouts_normalise_to_the_same_digits() -> None:
    forms = {
        normalise_identifier(cpr=c) for c in ("010203-4321", "0102034321", "010203 4321", " 010203-4321 ")
    }
    assert forms == {"cpr:0102034321"}


def test_invalid_cpr_is_refused_without_echoing_it() -> None:
    with pytest.raises(IdentifierError) as caught:
        normalise_identifier(cpr="310299-1234")
    assert caught.value.code == "cpr_invalid"
    assert str(caught.value) == "cpr_invalid"
    assert "310299" not in repr(caught.value)


def test_name_variants_normalise_to_the_same_key() -> None:
    names = ["Anna  Hansen", "anna hansen", "ANNA HANSEN", " Anna-Hansen ", "Anna.Hansen", "Ａｎｎａ Hansen"]
    assert {normalise_identifier(name=n, birth_date="2001-02-03") for n in names} == {
        "name:anna hansen|2001-02-03"
    }


@pytest.mark.parametrize("birth_date", ["2001-02-03", "03-02-2001", "03.02.2001", "03/02/2001", "3.2.2001"])
def test_birth_date_layouts_normalise_to_iso(birth_date: str) -> None:
    assert normalise_identifier(name="Anna Hansen", birth_date=birth_date) == "name:anna hansen|2001-02-03"


@pytest.mark.parametrize(
    "birth_date", ["2001-02-30", "31.02.2001", "03-02.2001", "2001/02/03", "tomorrow", "030201"]
)
def test_bad_birth_date_is_refused(birth_date: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        normalise_identifier(name="Anna Hansen", birth_date=birth_date)
    assert caught.value.code == "birth_date_invalid"
    assert birth_date not in str(caught.value)


@pytest.mark.parametrize(
    "kwargs",
    [{"name": "Anna Hansen"}, {"birth_date": "2001-02-03"}, {"name": " -- ", "birth_date": "2001-02-03"}],
)
def test_name_and_birth_date_come_together(kwargs: dict[str, str]) -> None:
    with pytest.raises(IdentifierError) as caught:
        normalise_identifier(**kwargs)
    assert caught.value.code == "name_needs_birth_date"


@pytest.mark.parametrize("kwargs", [{}, {"cpr": "", "name": "  ", "birth_date": ""}, {"cpr": None}])
def test_nothing_given_is_empty(kwargs: dict[str, str]) -> None:
    with pytest.raises(IdentifierError) as caught:
        normalise_identifier(**kwargs)
    assert caught.value.code == "empty"


def test_cpr_wins_over_name() -> None:
    assert normalise_identifier(cpr="0102034321", name="Anna", birth_date="x") == "cpr:0102034321"


def test_identifier_error_is_a_value_error() -> None:
    assert issubclass(IdentifierError, ValueError)


# --- derived / random pseudonyms -------------------------------------------------------------------------


def test_derived_pseudonym_is_the_first_40_bits_of_the_hmac_in_crockford() -> None:
    digest = hmac.new(KEY, b"cpr:0102034321", hashlib.sha256).digest()
    bits = "".join(f"{byte:08b}" for byte in digest[:5])
    expected = "".join(ALPHABET[int(bits[i : i + 5], 2)] for i in range(0, 40, 5))
    assert derived_pseudonym(KEY, "cpr:0102034321") == expected


def test_same_person_gets_the_same_pseudonym_however_written() -> None:
    by_cpr = {derived_pseudonym(KEY, normalise_identifier(cpr=c)) for c in ("010203-4321", "0102034321")}
    by_name = {
        derived_pseudonym(KEY, normalise_identifier(name=n, birth_date=d))
        for n, d in (("Anna  Hansen", "2001-02-03"), ("anna hansen", "03.02.2001"))
    }
    assert len(by_cpr) == 1
    assert len(by_name) == 1


def test_pseudonym_depends_on_the_key() -> None:
    assert derived_pseudonym(KEY, "cpr:0102034321") != derived_pseudonym(b"other", "cpr:0102034321")


def test_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="pseudonym_key_missing"):
        derived_pseudonym(b"", "cpr:0102034321")


def test_random_pseudonym_is_eight_crockford_characters_and_varies() -> None:
    drawn = {random_pseudonym() for _ in range(20)}
    assert all(len(p) == 8 and set(p) <= set(ALPHABET) for p in drawn)
    assert len(drawn) > 1


# --- format / parse --------------------------------------------------------------------------------------


def test_format_groups_in_fours() -> None:
    assert format_pseudonym("7KQ2M9XD") == "7KQ2-M9XD"


def test_format_refuses_garbage() -> None:
    with pytest.raises(ValueError):
        format_pseudonym("7KQ2")


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("7KQ2-M9XD", "7KQ2M9XD"),
        ("7kq2-m9xd", "7KQ2M9XD"),
        ("7KQ2M9XD", "7KQ2M9XD"),
        (" 7KQ2-M9XD ", "7KQ2M9XD"),
        ("OIL0-0000", "0110" + "0000"),
        ("7KQ2-U9XD", None),
        ("7KQ2-M9X", None),
        ("7KQ2-M9XDD", None),
        ("7KQ-2M9XD", None),
        ("7KQ2--M9XD", None),
        ("7KQ2-M9X!", None),
        ("", None),
    ],
)
def test_parse_pseudonym(text: str, parsed: str | None) -> None:
    assert parse_pseudonym(text) == parsed


# --- properties ------------------------------------------------------------------------------------------

pseudonyms = st.text(alphabet=ALPHABET, min_size=8, max_size=8)


@given(st.binary(min_size=1, max_size=64), st.text())
def test_derived_pseudonym_is_deterministic_and_in_the_alphabet(key: bytes, normalised: str) -> None:
    first = derived_pseudonym(key, normalised)
    assert first == derived_pseudonym(key, normalised)
    assert len(first) == 8
    assert set(first) <= set(ALPHABET)


@given(pseudonyms)
def test_parse_undoes_format(p: str) -> None:
    assert parse_pseudonym(format_pseudonym(p)) == p
    assert parse_pseudonym(format_pseudonym(p).lower()) == p


@given(st.text(max_size=12))
def test_parse_returns_none_or_a_valid_pseudonym(text: str) -> None:
    parsed = parse_pseudonym(text)
    assert parsed is None or (len(parsed) == 8 and set(parsed) <= set(ALPHABET))
