"""manifest.yml declares exactly what the adapter serves: every slash command, the scopes, the events."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.slack.listeners.commands import SLASH_COMMANDS

yaml = pytest.importorskip("yaml")
MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"
# Built-in commands Slack keeps for itself (a custom command with the same name is refused or shadowed).
RESERVED = {"help", "remind", "invite", "leave", "msg", "dm", "feed", "topic", "who", "away", "status", "shrug",
            "mute", "open", "search", "star", "collapse", "expand", "archive", "rename", "remove", "apps", "call"}


def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def test_every_slash_command_is_in_the_manifest_and_none_is_reserved() -> None:
    commands = manifest()["features"]["slash_commands"]
    names = [c["command"].lstrip("/") for c in commands]
    assert sorted(names) == sorted(SLASH_COMMANDS)
    assert not RESERVED & set(names)
    for c in commands:
        assert c["url"].endswith("/slack/events") and c["should_escape"] is True  # mentions arrive as <@U…>
        assert len(c["description"]) <= 100


def test_scopes_events_and_interactivity() -> None:
    data = manifest()
    assert set(data["oauth_config"]["scopes"]["bot"]) == {"commands", "chat:write", "im:write", "users:read",
                                                            "files:write", "files:read"}
    assert data["settings"]["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    assert data["settings"]["interactivity"]["is_enabled"] is True
    assert data["features"]["app_home"]["home_tab_enabled"] is True
