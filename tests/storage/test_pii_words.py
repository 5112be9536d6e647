"""The privacy guard's detectors for identifiers written in words (storage/pii_words.py): dates of birth, street
addresses, full names. True positives are refused with what was found; what the unit writes every day passes
(docs/privacy.md, "What the guard refuses")."""

from __future__ import annotations

import datetime as dt
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commands.router import pii_message
from storage import pii_words
from storage.pii import scan


def found(text: str) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start:f.end]) for f in scan(text)]


# --- dates of birth ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, date", [
    ("Født 01.01.1990, hedder X", "Født 01.01.1990"),
    ("født den 1. januar 1990", "født den 1. januar 1990"),
    ("f. 12.05.2010", "f. 12.05.2010"),
    ("Fødselsdato: 2010-05-12", "Fødselsdato: 2010-05-12"),
    ("fødselsdato 12/5-10", "fødselsdato 12/5-10"),
    ("Født d. 3. feb. 2009", "Født d. 3. feb. 2009"),
    ("født 01011990", "født 01011990"),
    ("born on 1 January 1990", "born on 1 January 1990"),
    ("Born: January 1, 1990", "Born: January 1, 1990"),
    ("DOB 1990-01-01", "DOB 1990-01-01"),
    ("date of birth 01/01/1990", "date of birth 01/01/1990"),
])
def test_a_date_after_a_birth_cue_is_a_date_of_birth(text: str, date: str) -> None:
    assert ("dob", date) in found(text)


@pytest.mark.parametrize("text", [
    "Mødet 3. januar 2027 kl. 14 på rådhuset",
    "frist 01.01.2027",
    "f.eks. 01.01.2027 eller 2027-01-02",
    "født i Syrien, ankom 2015",  # a year and a country, no date
    "bekymring modtaget 12.05.2026",
    "fødselsdagsfest i weekenden",
])
def test_dates_without_a_birth_cue_pass(text: str) -> None:
    assert found(text) == []


# --- addresses --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, address", [
    ("bor på Nørrebrogade 12", "Nørrebrogade 12"),
    ("Amagerbrogade 4 st. tv.", "Amagerbrogade 4 st. tv."),
    ("Jagtvej 69, 2. th.", "Jagtvej 69, 2. th."),
    ("Peter Bangs Vej 3", "Peter Bangs Vej 3"),
    ("H.C. Ørsteds Vej 7B", "H.C. Ørsteds Vej 7B"),
    ("bor på vesterbrogade 2a", "vesterbrogade 2a"),
    ("flyttet til 2300 København S", "2300 København S"),
    ("adresse 8000 Aarhus C", "8000 Aarhus C"),
    ("adresse 4690 Haslev", "4690 Haslev"),
    ("2500 Valby", "2500 Valby"),
])
def test_a_street_with_a_number_or_a_postcode_with_a_town_is_an_address(text: str, address: str) -> None:
    assert ("address", address) in found(text)


def test_a_full_address_is_refused_in_both_parts() -> None:
    assert found("Familien bor Nørrebrogade 12, 2200 København N.") == [
        ("address", "Nørrebrogade 12"), ("address", "2200 København N")]


@pytest.mark.parametrize("text", [
    "mødet på Nørrebro Station",
    "Amager Øst og Indre By",
    "hjemmebesøg på Nørrebro",
    "Vi ses på Jagtvej kl. 14",
    "på vej 2 gange om ugen",
    "i 2026 Koordineringsenheden",  # a year before a capitalised word
    "fra 2024 Januar",
    "Sagen har 2 personer",
])
def test_places_without_number_or_postcode_pass(text: str) -> None:
    assert found(text) == []


# --- full names -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, name", [
    ("hedder Ahmad Hansen", "Ahmad Hansen"),
    ("Mette Jensen ringede", "Mette Jensen"),
    ("Anne Marie Holm Nielsen", "Anne Marie Holm Nielsen"),
    ("Hans-Henrik Krogh", "Hans-Henrik Krogh"),
    ("Familien Hansen", "Familien Hansen"),  # any capitalised word before a common or -sen surname
    ("talte med Yusuf Abdi", "Yusuf Abdi"),
    ("met Emma Smith today", "Emma Smith"),
])
def test_a_known_first_name_with_a_surname_is_a_full_name(text: str, name: str) -> None:
    assert ("name", name) in found(text)


@pytest.mark.parametrize("text", [
    "Mette fra SSP deltog",
    "Politiet og Kriminalforsorgen er orienteret",
    "Socialforvaltningen visiterer",
    "Sankt Hans Torv",
    "Emil i August",
    "mødet med Anna mandag, Ole tirsdag",
    "Ida Mandag",  # a first name before a weekday
    "Hjemmebesøg med VINK: far og søn bekræfter udtalelserne.",
    "Mødet i Maj og Juni",
    "SSP Nørrebro og VINK",
])
def test_first_names_alone_orgs_places_and_months_pass(text: str) -> None:
    assert found(text) == []


def test_a_members_name_option_is_not_a_person_of_a_case() -> None:
    assert found('unit add @mette role=member org=SSP name="Mette Jensen"') == []
    assert found("unit add @mette role=member org=SSP name=Mette") == []
    assert found('case note KE-2026-0001 "Mette Jensen ringede"') == [("name", "Mette Jensen")]


def test_the_first_name_list_is_shipped_with_its_origin() -> None:
    head = pii_words.NAMES_FILE.read_text(encoding="utf-8").split("\n\n")[0]
    assert "Danmarks Statistik" in head and "Licence" in head
    names = pii_words.first_names()
    assert len(names) > 300 and {"mette", "ahmad", "mohammad", "fatima", "emma", "jens"} <= names


# --- the reply: says what was found, never echoes it -------------------------------------------------------


def test_the_refusal_names_each_kind_found_and_where() -> None:
    text = 'case note KE-2026-0001 "Født 01.01.1990, hedder Ahmad Hansen, bor Nørrebrogade 12, 2200 København N"'
    message = pii_message("da", text, scan(text), "Kommandoen")
    assert "fødselsdato" in message and "fuldt navn" in message and "adresse" in message
    for value in ("01.01.1990", "Ahmad", "Hansen", "Nørrebrogade", "2200"):
        assert value not in message
    english = pii_message("en", text, scan(text), "The command")
    assert "date of birth" in english and "full name" in english and "street address" in english


FIRST = sorted(pii_words.first_names())
surnames = st.sampled_from(sorted(pii_words.SURNAMES)).map(str.capitalize)
identifiers = st.one_of(
    st.tuples(st.sampled_from(FIRST).map(str.title), surnames).map(" ".join),
    st.tuples(st.sampled_from(["født", "Født den", "f.", "born", "DOB"]),
              st.dates(dt.date(1900, 1, 1), dt.date(2030, 12, 31)).map(lambda d: f"{d:%d.%m.%Y}")).map(" ".join),
    st.tuples(st.sampled_from(["Nørrebrogade", "Jagtvej", "Amagerbrogade", "Peter Bangs Vej"]),
              st.integers(1, 299)).map(lambda t: f"{t[0]} {t[1]}"),
)
prose = st.text(alphabet=string.ascii_lowercase + "æøå ,.", max_size=40)


@settings(max_examples=200)
@given(prose, identifiers, prose)
def test_an_identifier_in_prose_is_found_and_never_echoed(before: str, identifier: str, after: str) -> None:
    text = f"{before} {identifier} {after}"
    findings = scan(text)
    start = len(before) + 1
    assert any(f.start <= start < f.end for f in findings), (text, findings)
    for lang in ("da", "en"):
        message = pii_message(lang, text, findings, "X")
        assert identifier not in message
        assert not [word for word in identifier.split() if len(word) > 3 and word in message]


@given(st.text(), st.text(alphabet="0123456789 .-/:,ABCÆØÅabcæøå" + "fødtFØDTborn", max_size=80))
def test_the_word_detectors_never_raise_and_stay_inside_the_text(noise: str, digits: str) -> None:
    for text in (noise, digits, noise + digits):
        for detector in (pii_words.birth_dates, pii_words.addresses, pii_words.full_names):
            for start, end in detector(text):
                assert 0 <= start < end <= len(text)
