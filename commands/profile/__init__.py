"""The unit profile from chat (`unit profile show|export|import`) and the profile the other domains read."""

from __future__ import annotations

from commands.context import Services
from commands.messages import org_name
from storage.db import unit_of_work
from storage.profile import Profile, store


def current_profile(svc: Services) -> Profile:
    """For the platforms (bot/), which hold no session: the profile in a unit of work of its own."""
    with unit_of_work(svc.engine) as session:
        return store.profile(session, svc.settings)


def offered_orgs(svc: Services, lang: str | None = None) -> dict[str, str]:
    """The orgs a form offers (`refer to=…`), code → name in `lang` (default: the unit's): the profile's,
    without the archived ones."""
    with unit_of_work(svc.engine) as session:
        return org_choices(store.profile(session, svc.settings), lang or svc.calendar(session).lang)


def org_choices(profile: Profile, lang: str) -> dict[str, str]:
    return {code: org_name(lang, code, profile) for code in profile.org_codes()}
