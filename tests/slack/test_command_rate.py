"""COMMAND_RATE over real HTTP: the command past the rate is acked and answered politely, privately, not run."""

from __future__ import annotations

from fake_slack import FakeSlack
from slack_http import AppServer
from test_slash_commands import CONCERN, all_text, count, reply_to

from storage.clock import FixedClock
from storage.models import Case
from storage.settings import Settings
from tests.conftest import make_svc


async def test_a_user_over_the_command_rate_is_asked_to_wait_and_nothing_runs(
        slack_settings: Settings, clock: FixedClock, fake_slack: FakeSlack) -> None:
    svc = make_svc(slack_settings.model_copy(update={"command_rate": 2}), clock)
    try:
        async with AppServer(svc, fake_slack) as srv:
            for i in range(3):
                assert (await srv.slash("/concern", CONCERN, response_key=f"r{i}")).status_code == 200
                body = await reply_to(fake_slack, f"r{i}")
            assert "faster than 2 a minute" in all_text(body) and body["response_type"] == "ephemeral"
            assert count(svc, Case) == 2
            clock.advance(minutes=1)
            assert (await srv.slash("/concern", CONCERN, response_key="later")).status_code == 200
            assert "KE-2026-0003" in all_text(await reply_to(fake_slack, "later"))
    finally:
        svc.engine.dispose()
