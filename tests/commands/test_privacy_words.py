"""The privacy guard's word detectors end to end (storage/pii_words.py through commands/router.py): a date of
birth, a street address or a full name in a command or a form field is refused with what was found and
where, and nothing is stored — in Danish and English."""

from __future__ import annotations

import dataclasses

import pytest
from cmdkit import ADMIN, events, new_case, ok, run, seed_admin, submit

NOTE = 'case note {ref} "Født 01.01.1990, hedder Ahmad Hansen"'
ADDRESS = 'case note {ref} "Familien bor Nørrebrogade 12, 2200 København N"'


@pytest.fixture
def danish(svc):
    da = dataclasses.replace(svc, settings=svc.settings.model_copy(update={"bot_language": "da"}))
    seed_admin(da)
    return da


def test_a_birth_date_and_a_full_name_in_a_note_are_refused_and_nothing_is_stored(danish):
    ref = new_case(danish)
    before = events(danish, ref)
    reply = run(danish, ADMIN, NOTE.format(ref=ref))
    assert not reply.ok and "Afvist — intet er gemt" in reply.text
    assert "en fødselsdato" in reply.text and "et fuldt navn (fornavn og efternavn)" in reply.text
    assert "01.01.1990" not in reply.text and "Ahmad" not in reply.text and "Hansen" not in reply.text
    address = run(danish, ADMIN, ADDRESS.format(ref=ref))
    assert not address.ok and "en adresse" in address.text and "Nørrebrogade" not in address.text
    assert events(danish, ref) == before


def test_what_a_careful_unit_writes_still_passes(danish):
    ref = new_case(danish)
    for text in ("Mødet på Nørrebro Station med Mette fra SSP", "Familien flytter til Amager Øst i januar",
                 "Politiet og Kriminalforsorgen er orienteret 3. december", "Frist 01.01.2027, f.eks. mandag"):
        ok(danish, ADMIN, f'case note {ref} "{text}"')


def test_a_member_s_display_name_is_not_refused_but_a_name_in_a_topic_is(danish):
    ok(danish, ADMIN, 'unit add <@U_METTE> role=member org=SSP name="Mette Jensen"')
    topic = run(danish, ADMIN, 'meeting adhoc when="2026-12-01 10:00" duration=60m topic="Møde om Ahmad Hansen"')
    assert not topic.ok and "fuldt navn" in topic.text


def test_a_form_field_with_an_address_is_refused_in_english(svc):
    seed_admin(svc)
    result = submit(svc, ADMIN, "concern.intake", {
        "severity": "high", "track": "child", "source": "school", "district": "Nørrebro", "basis": "rpl115",
        "summary": "Lives at Jagtvej 69, 2. th.", "subject1_age": "15-17"})
    assert result.errors and "a street address" in result.errors["summary"]
    assert "Jagtvej" not in result.errors["summary"]
