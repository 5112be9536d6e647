"""Which platform a user id belongs to, and which platforms this deployment can deliver to.

A user id names its platform by its shape wherever it is typed: `U…`/`W…` is a Slack member id, a GUID a
Teams user's Entra object id. Anything else is a console user — only where no platform is configured, since
on a Slack or Teams deployment nobody could deliver a console user's reminders."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from commands import markup
from commands.messages import t
from commands.reply import Reply
from commands.tokenizer import GUID
from storage import outbox
from storage.db import unit_of_work
from storage.models import Member, OutboxMessage
from storage.settings import Settings

if TYPE_CHECKING:
    from commands.context import Services

SLACK_ID = re.compile(r"[UW][A-Z0-9_]+")  # Slack member ids are upper case: U0123ABCD, W0123ABCD


def teams_configured(settings: Settings) -> bool:
    """As bot.teams.wanted: app credentials, or unauthenticated in dev mode with a tenant."""
    return settings.has_teams or (settings.koordinator_dev and not settings.teams_app_id
                                  and bool(settings.teams_tenant_id))


def configured(settings: Settings) -> frozenset[str]:
    """The chat platforms this deployment delivers to; empty: the console is the only one."""
    found = set()
    if settings.has_slack:
        found.add("slack")
    if teams_configured(settings):
        found.add("teams")
    return frozenset(found)


def by_shape(user_id: str, settings: Settings) -> str | None:
    """The platform a typed user id names; None when it names none this deployment accepts."""
    if GUID.fullmatch(user_id):
        return "teams"
    if SLACK_ID.fullmatch(user_id):
        return "slack"
    return None if configured(settings) else "console"


def reachable(platform: str, settings: Settings) -> bool:
    """Can this deployment deliver a DM to a member of `platform`? The console prints everything, but only
    where it is the only platform; beside Slack or Teams it leaves delivery to them."""
    platforms = configured(settings)
    return platform in platforms if platforms else platform == "console"


def notify_unreachable(svc: Services) -> int:
    """DMs waiting for a member no configured platform can deliver to are not left silently: the secretariat
    channel is told once per member — who, never what. Returns how many notices were queued."""
    if not configured(svc.settings):
        return 0  # the console alone delivers everything
    told = 0
    try:
        with unit_of_work(svc.engine) as session:
            waiting = select(OutboxMessage.target).where(OutboxMessage.state == "pending",
                                                          OutboxMessage.target_kind == "user").distinct()
            targets = set(session.exec(waiting))
            if not targets:
                return 0
            for member in session.exec(select(Member).where(col(Member.user_id).in_(targets),
                                                            Member.active == True)):  # noqa: E712
                if reachable(member.platform, svc.settings):
                    continue
                text = t(svc.calendar(session).lang, "unreachable.notice", user=markup.mention(member),
                         platform=member.platform)
                row = outbox.enqueue(session, clock=svc.clock, vault=svc.vault, target_kind="channel",
                                     target="secretariat", payload=Reply(text=text).to_json(),
                                     dedupe_key=f"unreachable:{member.user_id}"[:128])
                told += row is not None
    except IntegrityError:  # another process queued the same notice at the same moment
        return 0
    return told
