"""Refusals name states in the reader's words, not the command language's codes (`visiteret`, not `referred`)."""

from __future__ import annotations

import dataclasses

import pytest

from tests.commands.cmdkit import ADMIN, SEVERITY_HIGH_CONCERN, ok, run, seed_admin


@pytest.fixture
def danish(svc):
    da = dataclasses.replace(svc, settings=svc.settings.model_copy(update={"bot_language": "da"}))
    seed_admin(da)
    return da


def test_a_state_refusal_in_danish_words(danish):
    ok(danish, ADMIN, SEVERITY_HIGH_CONCERN)
    ok(danish, ADMIN, "case qualify KE-2026-0001 level=preventive")
    ok(danish, ADMIN, "case refer KE-2026-0001 to=SSP")
    reply = run(danish, ADMIN, "case qualify KE-2026-0001")
    assert not reply.ok
    assert ("KE-2026-0001 har status »visiteret«. Til »kvalificeres« skal sagen have status: ny, kvalificeres."
            in reply.text)
    for code in ("`referred`", "`qualifying`", "new, qualifying"):
        assert code not in reply.text
