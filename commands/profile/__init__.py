"""The unit profile from chat (`unit profile show|export|import`) and the profile the other domains read."""

from __future__ import annotations

from commands.context import Services
from storage.db import unit_of_work
from storage.profile import Profile, store


def current_profile(svc: Services) -> Profile:
    """For the platforms (bot/), which hold no session: the profile in a unit of work of its own."""
    with unit_of_work(svc.engine) as session:
        return store.profile(session, svc.settings)


def offered_orgs(svc: Services) -> tuple[str, ...]:
    """The org codes a form offers (`refer to=…`): the profile's, without the archived ones."""
    return current_profile(svc).org_codes()
