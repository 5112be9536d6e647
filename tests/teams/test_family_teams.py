"""The seed's family case (tests/scenario/family.py) through Teams, and the same script through the console on
a database of its own: both leave the unit in the same state (tests/slack/test_family_slack.py proves the same
for Slack). The missed-meetings alarm reaches the son's owner in their 1:1 chat; the unit channel hears the
severity change by reference and level only."""

from __future__ import annotations

import json

import pytest
from teams_fakes import FakeConnector
from teams_kit import (
    ADMIN,
    UNIT_CHANNEL,
    TeamsServer,
    User,
    card_of,
    open_card_action,
    stands_for_a_dialog,
    text_of,
    user,
    wait_until,
)

from scheduler.jobs.followups import sweep
from storage.clock import FixedClock
from tests.scenario import family, seed
from tests.scenario.seed import REF, Clock, Intake

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::Warning:microsoft_teams")
PEOPLE = {name: user(0x200 + n, name.replace("_", " ").title()) for n, (name, _, _) in enumerate(seed.MEMBERS)}
IDS = {"admin": ADMIN.aad, **{name: u.aad for name, u in PEOPLE.items()}}


def person(name: str) -> User:
    return ADMIN if name == "admin" else PEOPLE[name]


async def test_the_family_case_through_teams_leaves_the_same_state_as_through_the_console(
        teams: TeamsServer, connector: FakeConnector, clock: FixedClock, second_db_url: str) -> None:
    expected, _printed = family.run_console(second_db_url)
    for who in PEOPLE.values():
        assert (await teams.post(teams.activity(who, kind="installationUpdate", action="add"))).status_code == 200
    await teams.say(ADMIN, "help", channel=UNIT_CHANNEL)
    for step in family.script(lambda name: f"<@{PEOPLE[name].aad}>", seed.pseudonyms(teams.svc)):
        if isinstance(step, Clock):
            step.apply(clock)
            sweep(teams.svc, clock.now())
        elif isinstance(step, Intake):
            form = await teams.open(person(step.actor), "concern")  # the intake form, in a dialog
            answer = await teams.click(person(step.actor), form["actions"][0], family.FAMILY_INTAKE)
            assert f"Registered as {REF}" in text_of(answer["value"]), answer
        else:
            who = person(step.actor)
            asked = await teams.say(who, step.text)
            replies = [a for a in connector.posted(who.chat) if a.get("replyToId") == asked]
            assert len(replies) == 1, step
            card = card_of(replies[0])
            if stands_for_a_dialog(card):
                card = (await teams.click(who, open_card_action(card)))["value"]  # details: in a dialog
            seed.check_answer(step, text_of(card))
    assert family.snapshot(teams.svc, IDS) == expected

    def channel_posts() -> list[str]:
        return [text_of(card_of(c.body)) for c in connector.calls if c.conversation.startswith(UNIT_CHANNEL)
                and c.body.get("attachments")]

    await wait_until(lambda: any(f"{REF} · severity now critical" in p for p in channel_posts()),
                     what="the severity notice")
    for body in channel_posts():
        for private in ("udrejse", "Aflyste", "Til DKS", "Samtale om", *seed.SECRETS):
            assert private not in body, body
    await wait_until(lambda: "missed 2 agreed meetings in a row" in json.dumps(
        [c.body for c in connector.calls if c.conversation == PEOPLE["ssp"].chat], ensure_ascii=False),
        what="the alarm in the son's owner's chat")
