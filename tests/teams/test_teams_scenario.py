"""The seed's case through Teams, and the same script through the console on a database of its own: the two
adapters must leave the unit in the same state (tests/slack/test_slack_scenario.py proves the same for Slack,
so the three agree). Along the way, Teams never shows a detail in a channel or an identifier anywhere.
"""

from __future__ import annotations

import json

import pytest
from teams_fakes import FakeConnector
from teams_kit import (
    ADMIN,
    UNIT_CHANNEL,
    TeamsServer,
    User,
    actions,
    card_of,
    open_card_action,
    text_of,
    user,
    wait_until,
)

from scheduler.jobs.followups import sweep
from storage.clock import FixedClock
from storage.pseudonym import format_pseudonym
from tests.scenario.seed import (
    INTAKE,
    MEMBERS,
    PRIVATE,
    REF,
    SECRETS,
    Clock,
    Intake,
    Step,
    assert_same_unit,
    check_answer,
    pseudonyms,
    run_console,
    script,
    snapshot,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::Warning:microsoft_teams")
PEOPLE = {name: user(0x100 + n, name.replace("_", " ").title()) for n, (name, _, _) in enumerate(MEMBERS)}
IDS = {"admin": ADMIN.aad, **{name: u.aad for name, u in PEOPLE.items()}}


def person(name: str) -> User:
    return ADMIN if name == "admin" else PEOPLE[name]


async def run_teams(teams: TeamsServer, connector: FakeConnector, clock: FixedClock, steps: list[Step]) -> None:
    for step in steps:
        if isinstance(step, Clock):
            step.apply(clock)
            sweep(teams.svc, clock.now())  # the worker's sweep: reminders go out through the outbox
        elif isinstance(step, Intake):
            form = await teams.open(person(step.actor), "concern")  # the form opens in a dialog
            answer = await teams.click(person(step.actor), form["actions"][0], INTAKE)
            assert f"Registered as {REF}" in text_of(answer["value"]), answer
        else:
            who = person(step.actor)
            asked = await teams.say(who, step.text)
            replies = [a for a in connector.posted(who.chat) if a.get("replyToId") == asked]
            assert len(replies) == 1, step  # reminders may arrive in between: the answer is the reply
            card = card_of(replies[0])
            if any((a.get("data", {}).get("msteams") or {}).get("type") == "task/fetch" for a in actions(card)):
                card = (await teams.click(who, open_card_action(card)))["value"]  # details: in a dialog
            check_answer(step, text_of(card))


async def test_the_seed_case_through_teams_leaves_the_same_state_as_through_the_console(
        teams: TeamsServer, connector: FakeConnector, clock: FixedClock, second_db_url: str) -> None:
    expected = run_console(second_db_url)
    people = pseudonyms(teams.svc)

    for who in PEOPLE.values():  # everyone installs the app: the bot learns their 1:1 chats
        assert (await teams.post(teams.activity(who, kind="installationUpdate", action="add"))).status_code == 200
    await teams.say(ADMIN, "help", channel=UNIT_CHANNEL)  # the bot is in the unit's channel
    await run_teams(teams, connector, clock, script(lambda name: f"<@{PEOPLE[name].aad}>", people))
    assert_same_unit(snapshot(teams.svc, IDS), expected)

    # the channel saw references and categories only; identifiers were never sent anywhere
    def channel_posts() -> list[str]:
        return [text_of(card_of(c.body)) for c in connector.calls if c.conversation.startswith(UNIT_CHANNEL)
                and c.body.get("attachments")]

    await wait_until(lambda: any(f"{REF} closed · handed to the ordinary system" in p for p in channel_posts()),
                     what="close notice")
    for body in channel_posts():
        for secret in (*PRIVATE, *SECRETS):
            assert secret not in body, body
    everything = json.dumps([c.body for c in connector.calls], ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in everything
    assert f"You are assigned to {format_pseudonym(people['daughter'])}" in json.dumps(
        [c.body for c in connector.calls if c.conversation == PEOPLE["mentor_girl"].chat], ensure_ascii=False)
