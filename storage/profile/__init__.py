"""The unit profile: its schema, the shipped profiles, reading YAML with line-numbered errors.

Use cases read the *current* profile through `storage.profile.store.current(session, settings)`.
"""

from __future__ import annotations

from storage.profile.load import SHIPPED, ProfileError, load_text, shipped, shipped_text
from storage.profile.schema import Profile

__all__ = ["SHIPPED", "Profile", "ProfileError", "load_text", "shipped", "shipped_text"]
