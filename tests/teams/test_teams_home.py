"""`home` on Teams: the same overview as Slack's App Home, as a card that refreshes itself for the member who
looks at it (Universal Actions `refresh`, an `adaptiveCard/action` invoke with trigger "automatic"); the welcome
shows it; `home` works on every platform."""

from __future__ import annotations

import pytest
from teams_fakes import FakeConnector
from teams_kit import ADMIN, TeamsServer, card_of, text_of, user, wait_until

from commands.reply import Invocation
from commands.router import dispatch

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::Warning:microsoft_teams")
CONCERN = ('concern new severity=high track=child age=15-17 source=school district=Valby basis=rpl115 '
           'summary="Bekymring"')


async def test_the_home_card_refreshes_after_a_case_changes(teams: TeamsServer, connector: FakeConnector) -> None:
    await teams.say(ADMIN, "home")
    home = card_of(connector.posted(ADMIN.chat)[-1])
    assert home["refresh"]["action"]["verb"] == "koord.home" and home["refresh"]["userIds"] == [ADMIN.teams_id]
    assert "KE-2026-0001" not in text_of(home)
    await teams.say(ADMIN, CONCERN)
    refresh = {"action": {"type": "Action.Execute", "verb": "koord.home", "data": home["refresh"]["action"]["data"]},
               "trigger": "automatic"}  # what Teams sends when the member looks at the card
    answer = await teams.invoke(ADMIN, "adaptiveCard/action", refresh)
    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    fresh = answer["value"]
    assert "KE-2026-0001" in text_of(fresh) and fresh["refresh"]["userIds"] == [ADMIN.teams_id]
    # someone else looking at the same card sees their own (here: not a member)
    other = await teams.invoke(user(0x0E, "Olga"), "adaptiveCard/action", refresh)
    assert "KE-2026-0001" not in text_of(other["value"])


async def test_the_welcome_is_the_home_card(teams: TeamsServer, connector: FakeConnector) -> None:
    bo = user(0xB0, "Bo Berg")
    await teams.say(ADMIN, f"unit add {bo.aad} role=member org=SOF")
    assert (await teams.post(teams.activity(bo, kind="installationUpdate", action="add"))).status_code == 200
    # the welcome at install is the home card (the "added to the unit" DM, released by the same install, may
    # arrive before or after it)
    [welcome] = await wait_until(lambda: [card_of(a) for a in connector.posted(bo.chat) if "refresh" in card_of(a)],
                                 what="the home card")
    assert welcome["refresh"]["action"]["verb"] == "koord.home" and welcome["refresh"]["userIds"] == [bo.teams_id]


def test_home_is_a_command_on_every_platform(teams_svc) -> None:  # noqa: ANN001
    for platform in ("console", "slack", "teams"):
        reply = dispatch(teams_svc, Invocation(user_id=ADMIN.aad, text="home", platform=platform))
        assert reply.ok and reply.command == "home" and reply.title == "koordinator", reply.text
