"""Outbox delivery for whichever platforms this deployment serves; the console prints."""

from __future__ import annotations

import asyncio
import sys

from commands.context import Services


async def deliver_pending(svc: Services) -> int:
    """One delivery pass (the worker's job). Each platform takes its own rows: DMs to its members, and the
    channel posts go to Slack when Slack is configured, else to Teams."""
    from bot import teams

    sent = 0
    if teams.wanted(svc.settings):
        from bot.teams.delivery import deliver_with_settings as deliver_teams

        sent += await deliver_teams(svc)
    if svc.settings.has_slack:
        from bot.slack.delivery import deliver_with_settings as deliver_slack

        return sent + await deliver_slack(svc)
    if teams.wanted(svc.settings):
        return sent
    from bot.terminal import print_outbox

    return await asyncio.to_thread(print_outbox, svc, sys.stdout)
