"""A usage line reads in the reader's language: its placeholders are words, its option keys as they are typed."""

from __future__ import annotations

import dataclasses

import pytest
from cmdkit import ADMIN, run, seed_admin

from commands import messages, registry
from commands.router import TABLE


@pytest.fixture
def danish(svc):
    settings = svc.settings.model_copy(update={"bot_language": "da"})
    da = dataclasses.replace(svc, settings=settings)
    seed_admin(da)
    return da


def test_a_danish_usage_error_names_the_placeholder_in_danish(danish):
    text = run(danish, ADMIN, "case close KE-2026-0009 reason=ubegrundet").text
    assert "Brug: `case close KE-… reason=ÅRSAG`" in text and "REASON" not in text
    note = run(danish, ADMIN, "case note KE-2026-0009 \"x\"").text
    assert "Brug: `case note KE-… \"tekst\"`" in note


def test_danish_help_shows_danish_placeholders(danish):
    text = run(danish, ADMIN, "help case refer").text
    assert "to=MYNDIGHED" in text and "[owner=@bruger]" in text and "subject=PSEUDONYM" in text


def test_english_usage_is_unchanged(svc):
    seed_admin(svc)
    assert "Usage: `case close KE-… reason=REASON`" in run(svc, ADMIN, "case close KE-2026-0009").text


def test_every_placeholder_has_words_in_every_language_and_examples_stay():
    for key in registry.PLACEHOLDERS.values():
        assert messages.has(key), key
    usage = 'meeting series add rrule="FREQ=WEEKLY;BYDAY=TU" [start=YYYY-MM-DD] KE-… M-… N'
    assert registry.usage_in("da", usage) == usage.replace("YYYY", "ÅÅÅÅ")
    for cmd in TABLE.commands.values():
        assert registry.usage_in("en", cmd.usage) == cmd.usage, cmd.usage
