"""One module per kind of Slack request; each has one `register(app)`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners import actions, commands, events, views


def register_listeners(app: AsyncApp) -> None:
    commands.register(app)
    views.register(app)
    actions.register(app)
    events.register(app)
