"""Errors the user can fix are values, not stack traces."""

from __future__ import annotations

from typing import Any


class UsageError(Exception):
    """Bad input: becomes a private reply with the message and the command's usage line."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class Refused(Exception):
    """Not allowed for this user: becomes a polite private reply and an audit entry."""

    def __init__(self, key: str, *, case_ref: str | None = None, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.case_ref = case_ref
        self.params = params
