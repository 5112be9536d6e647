"""A surprising change through Slack: the slash command's private answer asks with two buttons and changes
nothing; Cancel changes nothing; the confirm button, clicked over real HTTP, moves the meeting and the unit
channel is told only then."""

from __future__ import annotations

from typing import Any

from fake_slack import FakeSlack
from slack_http import AppServer, block_action, wait_until
from sqlmodel import Session, select
from test_buttons_and_home import button
from test_slash_commands import all_text, reply_to

from storage.models import Meeting


def starts(server: AppServer) -> str:
    with Session(server.svc.engine) as session:
        return session.exec(select(Meeting)).one().starts_at.strftime("%Y-%m-%d %H:%M")


async def test_a_far_move_asks_with_buttons_and_the_confirm_button_moves_it(
        server: AppServer, fake_slack: FakeSlack, clock: Any) -> None:
    await server.slash("/meeting", 'adhoc when="2026-11-26 13:00" duration=60m topic="Akut"', response_key="new")
    await reply_to(fake_slack, "new")
    # the new meeting's channel notice is delivered through the outbox: wait for it, so that it is not
    # counted as a post of the move below
    await wait_until(lambda: len(fake_slack.posted("C0UNIT")) == 1, what="the new meeting's channel notice")
    await server.slash("/meeting", 'move M-2026-001 when="2026-12-10 13:00"', response_key="ask")
    asked = await reply_to(fake_slack, "ask")
    assert asked["response_type"] == "ephemeral" and "14 days" in all_text(asked)
    posted_before = len(fake_slack.posted("C0UNIT"))
    assert starts(server) == "2026-11-26 12:00"
    cancel = button(asked, "koord.confirm.no")
    await server.interaction(block_action(cancel["value"], cancel["action_id"],
                                          response_url=fake_slack.response_url("cancel")))
    assert "nothing has changed" in all_text(await reply_to(fake_slack, "cancel"))
    assert starts(server) == "2026-11-26 12:00" and len(fake_slack.posted("C0UNIT")) == posted_before
    confirm = button(asked, "koord.confirm.yes")
    assert confirm["style"] == "primary" and "confirm=" in confirm["value"]
    await server.interaction(block_action(confirm["value"], confirm["action_id"],
                                          response_url=fake_slack.response_url("yes")))
    assert "M-2026-001" in all_text(await reply_to(fake_slack, "yes"))
    assert starts(server) == "2026-12-10 12:00"
    await wait_until(lambda: len(fake_slack.posted("C0UNIT")) > posted_before, what="the unit told after the yes")
