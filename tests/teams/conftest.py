"""Teams fixtures: a fake Bot Connector and fake signing keys, Services configured for Teams, and our server
running for real with authentication on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from teams_fakes import FakeConnector, FakeOpenId, new_key
from teams_kit import ADMIN, APP_ID, SECRETARIAT_CHANNEL, TENANT, UNIT_CHANNEL, TeamsServer

from commands.context import Services
from storage.clock import FixedClock
from storage.settings import Settings
from tests.conftest import make_svc


@pytest.fixture(scope="session")
def signing_key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture(scope="session")
def openid(signing_key: rsa.RSAPrivateKey) -> Iterator[FakeOpenId]:
    fake = FakeOpenId(signing_key)
    yield fake
    fake.close()


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = await FakeConnector().start()
    yield fake
    await fake.stop()


@pytest.fixture
def teams_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={
        "teams_app_id": APP_ID, "teams_app_password": "test-secret", "teams_tenant_id": TENANT,
        "unit_channel": UNIT_CHANNEL, "secretariat_channel": SECRETARIAT_CHANNEL, "admin_users": (ADMIN.aad,),
        "graph_api_url": ""})  # no Graph: installing the app for members is tested against a fake in test_teams_reach


@pytest.fixture
def teams_svc(teams_settings: Settings, clock: FixedClock) -> Iterator[Services]:
    svc = make_svc(teams_settings, clock)
    yield svc
    svc.engine.dispose()


@pytest.fixture
async def teams(teams_svc: Services, connector: FakeConnector, openid: FakeOpenId,
                signing_key: rsa.RSAPrivateKey) -> AsyncIterator[TeamsServer]:
    async with TeamsServer(teams_svc, connector, openid, signing_key) as server:
        yield server
