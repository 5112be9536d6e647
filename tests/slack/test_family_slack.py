"""The seed's family case (tests/scenario/family.py) through Slack — signed slash commands, the intake modal,
replies on the response_url, the alarm and notices through the outbox — and the same script through the
console on a database of its own: both leave the unit in the same state. Channels see references,
pseudonyms and categories only: never a severity's reason, a mentor's note or a disclosure's note."""

from __future__ import annotations

from fake_slack import FakeSlack
from slack_http import ADMIN, UNIT_CHANNEL, AppServer, view_submission, wait_until
from test_modals import open_form
from test_slack_scenario import as_slack_sends, filled
from test_slash_commands import all_text, reply_to

from scheduler.jobs.followups import sweep
from storage.clock import FixedClock
from tests.scenario import family, seed
from tests.scenario.seed import REF, Clock, Intake

IDS = {"admin": ADMIN, **{name: "U" + name.replace("_", "").upper() for name, _, _ in seed.MEMBERS}}


def mention(name: str) -> str:
    return f"<@{IDS[name]}|{name}>"


async def test_the_family_case_through_slack_leaves_the_same_state_as_through_the_console(
        server: AppServer, fake_slack: FakeSlack, clock: FixedClock, second_db_url: str) -> None:
    expected, _printed = family.run_console(second_db_url)
    for n, step in enumerate(family.script(mention, seed.pseudonyms(server.svc))):
        key = f"f{n}"
        if isinstance(step, Clock):
            step.apply(clock)
            sweep(server.svc, clock.now())
        elif isinstance(step, Intake):
            view = await open_form(server, fake_slack, "/concern", "", key, user=IDS[step.actor])
            submitted = await server.interaction(view_submission(view, filled(view, family.FAMILY_INTAKE),
                                                                 user=IDS[step.actor]))
            assert submitted.status_code == 200 and not submitted.content
            assert f"Registered as {REF}" in all_text(await reply_to(fake_slack, key))
        else:
            group, _, rest = step.text.partition(" ")
            response = await server.slash(f"/{group}", as_slack_sends(rest), user=IDS[step.actor],
                                          channel=UNIT_CHANNEL, response_key=key)
            assert response.status_code == 200 and not response.content
            seed.check_answer(step, all_text(await reply_to(fake_slack, key)))
    assert family.snapshot(server.svc, IDS) == expected

    def channel_posts() -> list[str]:
        return [all_text(body) for body in fake_slack.posted() if str(body.get("channel", "")).startswith("C")]

    await wait_until(lambda: any("missed 2 agreed meetings in a row" in p for p in channel_posts()),
                     what="the missed-meetings alarm in the secretariat channel")
    await wait_until(lambda: any(f"{REF} · severity now critical" in p for p in channel_posts()),
                     what="the severity notice")
    for body in channel_posts():
        for private in ("udrejse", "Aflyste", "Til DKS", "Samtale om", *seed.SECRETS):
            assert private not in body, body
    ssp = " ".join(all_text(b) for b in fake_slack.posted("D" + IDS["ssp"]))
    assert "missed 2 agreed meetings in a row" in ssp
