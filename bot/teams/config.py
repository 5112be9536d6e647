"""What the settings say about Teams: whether to serve it, how requests are authenticated, and what is missing.
Light on purpose (no SDK): the server asks it even where Teams is off."""

from __future__ import annotations

from storage.settings import Settings


def auth_mode(settings: Settings) -> str:
    """"jwt": Bot Framework tokens validated by the SDK; "dev": unauthenticated (KOORDINATOR_DEV=1, no
    TEAMS_APP_ID — local testing only); "off": the SDK refuses every request."""
    if settings.teams_app_id and settings.teams_app_password:
        return "jwt"
    if settings.koordinator_dev and not settings.teams_app_id:
        return "dev"
    return "off"


def wanted(settings: Settings) -> bool:
    """Serve Teams: with app credentials, or unauthenticated in dev mode (KOORDINATOR_DEV=1, no TEAMS_APP_ID)."""
    return settings.has_teams or (settings.koordinator_dev and not settings.teams_app_id
                                  and bool(settings.teams_tenant_id))


def config_problem(settings: Settings) -> str | None:
    """What keeps Teams from working, in words an operator can act on; None when all is well (or unused)."""
    if not (settings.teams_app_id or settings.teams_app_password or settings.teams_tenant_id):
        return None
    if settings.teams_app_id and not settings.teams_app_password:
        return "TEAMS_APP_PASSWORD (the bot's client secret) is required with TEAMS_APP_ID — see docs/teams.md."
    if settings.teams_app_password and not settings.teams_app_id:
        return "TEAMS_APP_ID (the Azure bot's Microsoft App ID) is required with TEAMS_APP_PASSWORD."
    if not settings.teams_tenant_id:
        return "TEAMS_TENANT_ID is required for Teams: activities from any other tenant are refused."
    if not settings.has_teams and not settings.koordinator_dev:
        return "TEAMS_APP_ID and TEAMS_APP_PASSWORD are required for Teams (KOORDINATOR_DEV=1 for local testing)."
    return None
