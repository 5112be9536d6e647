"""The privacy refusal counts the places it found in the reader's grammar: one character, two characters."""

from __future__ import annotations

from commands.router import pii_message
from storage.pii import scan


def test_one_place_is_a_character_and_two_are_characters_listed_in_words() -> None:
    one = 'case note KE-2026-0001 "ring på 22 33 44 55"'
    two = 'case note KE-2026-0001 "Født 01.01.1990, bor på Nørrebrogade 12"'
    assert "(at character 33)" in pii_message("en", one, scan(one), "The command")
    assert "(at characters 25 and 49)" in pii_message("en", two, scan(two), "The command")
    assert "(ved tegn 25 og 49)" in pii_message("da", two, scan(two), "Kommandoen")
    assert "(ved tegn 33)" in pii_message("da", one, scan(one), "Kommandoen")
