"""Outbox delivery for whichever platform this deployment serves; the console prints."""

from __future__ import annotations

import asyncio
import sys

from commands.context import Services


async def deliver_pending(svc: Services) -> int:
    if svc.settings.has_slack:
        from bot.slack.delivery import deliver_with_settings

        return await deliver_with_settings(svc)
    from bot.console import print_outbox

    return await asyncio.to_thread(print_outbox, svc, sys.stdout)
