"""Slack fixtures: a fake Slack Web API, Services configured for Slack, and our server running for real."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from fake_slack import FakeSlack
from slack_http import ADMIN, SECRETARIAT_CHANNEL, SIGNING_SECRET, UNIT_CHANNEL, AppServer

from commands.context import Services
from storage.clock import FixedClock
from storage.settings import Settings
from tests.conftest import make_svc


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.stop()


@pytest.fixture
def slack_settings(settings: Settings, fake_slack: FakeSlack) -> Settings:
    return settings.model_copy(update={
        "slack_bot_token": "xoxb-test", "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake_slack.base_url.rstrip("/"),  # the trailing slash is ours to add
        "unit_channel": UNIT_CHANNEL, "secretariat_channel": SECRETARIAT_CHANNEL, "admin_users": (ADMIN,)})


@pytest.fixture
def slack_svc(slack_settings: Settings, clock: FixedClock) -> Iterator[Services]:
    svc = make_svc(slack_settings, clock)
    yield svc
    svc.engine.dispose()


@pytest.fixture
async def server(slack_svc: Services, fake_slack: FakeSlack) -> AsyncIterator[AppServer]:
    async with AppServer(slack_svc, fake_slack) as srv:
        yield srv
