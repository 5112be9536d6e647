"""Reaching everyone: a member the bot has no 1:1 chat with gets the app installed through Microsoft Graph (fake
Graph and token endpoint here), and what waited for them goes out once Teams tells the bot about the new chat;
without the Graph permission the secretariat is told, once per member, who cannot be reached."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from teams_fakes import FakeConnector, FakeGraph, FakeOpenId
from teams_kit import ADMIN, APP_ID, BOT_ID, SECRETARIAT_CHANNEL, TeamsServer, card_of, text_of, user, wait_until

from storage.clock import FixedClock
from storage.settings import Settings
from tests.conftest import make_svc

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::Warning:microsoft_teams")
BO, CARL = user(0xB0, "Bo Berg"), user(0xCA, "Carl Clausen")


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    fake = await FakeGraph(catalog=[{"id": "catalog-app-1", "externalId": APP_ID}]).start()
    yield fake
    await fake.stop()


@pytest.fixture
async def server(teams_settings: Settings, clock: FixedClock, connector: FakeConnector, openid: FakeOpenId,
                 signing_key: rsa.RSAPrivateKey, graph: FakeGraph) -> AsyncIterator[TeamsServer]:
    svc = make_svc(teams_settings.model_copy(update={"graph_api_url": f"{graph.url}/v1.0",
                                                     "graph_login_url": graph.url}), clock)
    async with TeamsServer(svc, connector, openid, signing_key) as served:
        yield served
    svc.engine.dispose()


def last(connector: FakeConnector, conversation: str) -> str:
    return text_of(card_of(connector.posted(conversation)[-1]))


async def test_a_member_without_a_chat_gets_the_app_installed_and_the_waiting_welcome(
        server: TeamsServer, connector: FakeConnector, graph: FakeGraph) -> None:
    await server.say(ADMIN, f"unit add {BO.aad} role=member org=SOF")
    [install] = await wait_until(graph.installs, what="the app installed for Bo through Graph")
    assert install.conversation == BO.aad and install.authorization == "Bearer graph-token"
    assert install.body == {"teamsApp@odata.bind": f"{graph.url}/v1.0/appCatalogs/teamsApps/catalog-app-1"}
    token = next(c for c in graph.calls if c.path == "token")
    assert token.body["client_id"] == APP_ID and token.body["scope"] == "https://graph.microsoft.com/.default"
    await server.say(ADMIN, "unit members")
    assert "cannot be reached on Teams yet" in last(connector, ADMIN.chat)
    assert not connector.posted(BO.chat)  # the welcome waits for the chat
    # Teams tells the bot about the new 1:1 chat: the reference, and what waited goes out at once
    update = server.activity(BO, kind="conversationUpdate", membersAdded=[{"id": BOT_ID}])
    assert (await server.post(update)).status_code == 200
    await wait_until(lambda: any("You have been added" in text_of(card_of(a)) for a in connector.posted(BO.chat)),
                     what="the welcome delivered")
    await server.say(ADMIN, "unit members")
    assert "cannot be reached" not in last(connector, ADMIN.chat)
    assert len(graph.installs()) == 1


async def test_without_the_graph_permission_the_secretariat_is_told_once_per_member(
        server: TeamsServer, connector: FakeConnector, graph: FakeGraph, clock: Any) -> None:
    graph.install_status = 403
    await server.say(ADMIN, f"unit add {BO.aad} role=member org=SOF")
    await server.say(ADMIN, f"unit add {CARL.aad} role=member org=SSP")
    await wait_until(lambda: [a for a in connector.posted(SECRETARIAT_CHANNEL)
                              if "cannot reach" in text_of(card_of(a))][1:], what="two notices")
    await asyncio.sleep(0.3)  # more delivery passes: no new attempt, no new notice
    told = [text_of(card_of(a)) for a in connector.posted(SECRETARIAT_CHANNEL) if "cannot reach" in str(a)]
    assert len(told) == 2 and len(graph.installs()) == 2
    assert "TeamsAppInstallation.ReadWriteSelfForUser.All" in told[0] and "unit reach" in told[0]  # as typed in Entra
    notices = [card_of(a) for a in connector.posted(SECRETARIAT_CHANNEL) if "cannot reach" in str(a)]
    assert sorted(e["mentioned"]["id"] for n in notices for e in n["msteams"]["entities"]) == [BO.aad, CARL.aad]
    await server.say(ADMIN, "unit reach")  # the secretariat asks again: tried again, not told again
    assert "cannot reach 2 members on Teams yet" in last(connector, ADMIN.chat)
    await wait_until(lambda: len(graph.installs()) == 4, what="tried again")
    await asyncio.sleep(0.3)
    assert len([a for a in connector.posted(SECRETARIAT_CHANNEL) if "cannot reach" in str(a)]) == 2
    await server.say(ADMIN, "unit members")
    assert last(connector, ADMIN.chat).count("cannot be reached on Teams yet") == 2


def test_a_permission_name_reads_exactly_as_the_admin_types_it_and_user_text_stays_broken() -> None:
    from bot import escaping
    from commands import markup
    from commands.markup import scrub

    name, Z = "TeamsAppInstallation.ReadWriteSelfForUser.All", escaping.ZWSP
    text = "Missing: " + markup.code(name) + " " + scrub("evil.example \ue005www.evil.example\ue006")
    assert escaping.teams(text) == f"Missing: {name} evil.{Z}example www{Z}.evil.{Z}example"  # forged marks: text
    assert f"`{name}`" in escaping.slack(text) and escaping.ZWSP not in escaping.slack(markup.code(name))
    assert name in escaping.console(text) and name in markup.plain(text)
