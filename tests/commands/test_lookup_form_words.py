"""The look-up form asks for the identifier it needs: it does not call a required field optional."""

from __future__ import annotations


def test_the_lookup_identifier_is_not_called_optional(console):
    out = console.run("admin", "concern lookup", ".", bootstrap=True)
    assert "Identifier" in out and "of the person you look up" in out
    assert "Optional" not in out
