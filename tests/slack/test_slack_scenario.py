"""The seed's case through Slack — signed slash commands, the intake modal's view_submission, replies on the
response_url, reminders and notices through the outbox — and the same script through the console on a database
of its own: the two adapters must leave the unit in the same state (tests/teams/test_teams_scenario.py proves
the same for Teams, so the three agree). Channels never see a detail; identifiers are never sent anywhere.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fake_slack import FakeSlack
from slack_http import ADMIN, UNIT_CHANNEL, AppServer, multi, select, text, view_submission, wait_until
from test_modals import open_form
from test_slash_commands import all_text, reply_to

from scheduler.jobs.followups import sweep
from storage.clock import FixedClock
from storage.pseudonym import format_pseudonym
from tests.scenario import seed
from tests.scenario.seed import REF, Clock, Intake

IDS = {"admin": ADMIN, **{name: "U" + name.replace("_", "").upper() for name, _, _ in seed.MEMBERS}}
_MENTION = re.compile(r"(<@U[A-Z0-9]+\|[^>]*>)")


def mention(name: str) -> str:
    """How Slack writes a mention in slash-command text (the manifest sets should_escape)."""
    return f"<@{IDS[name]}|{name}>"


def as_slack_sends(text_: str) -> str:
    """Slash-command text as Slack posts it: &, < and > escaped everywhere but inside mentions."""
    def esc(part: str) -> str:
        return part.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "".join(part if _MENTION.fullmatch(part) else esc(part) for part in _MENTION.split(text_))


def filled(view: dict[str, Any], answers: dict[str, str]) -> dict[str, Any]:
    """The modal's state as Slack submits it, each input answered by its kind of element."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        name, kind, answer = block["block_id"], block["element"]["type"], answers.get(block["block_id"], "")
        if kind == "static_select":
            values[name] = select(answer) if answer else {"type": kind, "selected_option": None}
        elif kind == "multi_static_select":
            values[name] = multi(*[v for v in answer.split(",") if v])
        else:
            values[name] = text(answer or None)
    return values


async def run_slack(server: AppServer, fake: FakeSlack, clock: FixedClock, steps: list[seed.Step]) -> None:
    for n, step in enumerate(steps):
        key = f"s{n}"
        if isinstance(step, Clock):
            step.apply(clock)
            sweep(server.svc, clock.now())  # the worker's sweep: reminders go out through the outbox
        elif isinstance(step, Intake):
            view = await open_form(server, fake, "/concern", "", key, user=IDS[step.actor])
            submitted = await server.interaction(view_submission(view, filled(view, seed.INTAKE),
                                                                 user=IDS[step.actor]))
            assert submitted.status_code == 200 and not submitted.content  # a plain ack closes the modal
            assert f"Registered as {REF}" in all_text(await reply_to(fake, key))
        else:
            group, _, rest = step.text.partition(" ")
            response = await server.slash(f"/{group}", as_slack_sends(rest), user=IDS[step.actor],
                                          channel=UNIT_CHANNEL, response_key=key)
            assert response.status_code == 200 and not response.content  # an empty ack shows nothing
            answer = await reply_to(fake, key)
            assert answer["response_type"] == "ephemeral" and len(fake.responses_to(key)) == 1, step
            seed.check_answer(step, all_text(answer))


async def test_the_seed_case_through_slack_leaves_the_same_state_as_through_the_console(
        server: AppServer, fake_slack: FakeSlack, clock: FixedClock, second_db_url: str) -> None:
    expected = seed.run_console(second_db_url)
    people = seed.pseudonyms(server.svc)

    await run_slack(server, fake_slack, clock, seed.script(mention, people))
    seed.assert_same_unit(seed.snapshot(server.svc, IDS), expected)

    # channels saw references and categories only; identifiers were never sent to Slack at all
    def channel_posts() -> list[str]:
        return [all_text(body) for body in fake_slack.posted() if str(body.get("channel", "")).startswith("C")]

    await wait_until(lambda: any(f"{REF} closed · handed to the ordinary system" in p for p in channel_posts()),
                     what="close notice")
    for body in channel_posts():
        for secret in (*seed.PRIVATE, *seed.SECRETS):
            assert secret not in body, body
    everything = json.dumps([c.data for c in fake_slack.calls] + [b for _, b in fake_slack.responses],
                            ensure_ascii=False)
    for secret in seed.SECRETS:
        assert secret not in everything
    girl = json.dumps(fake_slack.posted("D" + IDS["mentor_girl"]), ensure_ascii=False)
    assert f"You are assigned to {format_pseudonym(people['daughter'])}" in girl
