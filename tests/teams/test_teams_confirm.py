"""A surprising change through Teams: the answer card asks with Confirm / Cancel (Action.Execute), nothing
changes until the Confirm action comes back as an invoke, run as the clicking user."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select
from teams_fakes import FakeConnector
from teams_kit import ADMIN, TeamsServer, action, card_of, text_of, user, wait_until

from storage.models import Case, FollowUp

# Written before work procedures: its case closes without ticking checklist steps (tests/profile/test_steps.py).
pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::Warning:microsoft_teams"),
              pytest.mark.procedures_off]
BO = user(0xB0, "Bo Berg")


async def card_answer(teams: TeamsServer, connector: FakeConnector, text: str) -> dict[str, Any]:
    asked = await teams.say(ADMIN, text)
    found = await wait_until(lambda: [a for a in connector.posted(ADMIN.chat) if a.get("replyToId") == asked],
                             what=f"the answer to {text!r}")
    return card_of(found[0])


def state(teams: TeamsServer) -> tuple[str, list[str]]:
    with Session(teams.svc.engine) as session:
        return (session.exec(select(Case)).one().state,
                [f.state for f in session.exec(select(FollowUp).where(FollowUp.kind == "custom"))])


async def test_closing_a_case_with_a_follow_up_asks_on_the_card_and_confirm_closes_it(
        teams: TeamsServer, connector: FakeConnector, clock: Any) -> None:
    await card_answer(teams, connector, 'concern new severity=high track=child age=15-17 source=school '
                                        'district=Valby basis=rpl115 summary="Bekymring"')
    await card_answer(teams, connector, "case qualify KE-2026-0001 level=preventive")
    await card_answer(teams, connector, "case refer KE-2026-0001 to=SOF")
    await card_answer(teams, connector, 'followup add KE-2026-0001 due="2026-12-01 10:00" "Ring til skolen"')
    card = await card_answer(teams, connector, "case close KE-2026-0001 reason=unfounded")
    assert "1 open follow-up is cancelled" in text_of(card)
    assert state(teams) == ("referred", ["pending"])
    await teams.click(ADMIN, action(card, "Cancel"))
    assert state(teams) == ("referred", ["pending"])
    await teams.click(BO, action(card, "Yes, close the case"))  # another person: not a member, nothing runs
    assert state(teams) == ("referred", ["pending"])
    before = len(connector.posted(ADMIN.chat))
    await teams.click(ADMIN, action(card, "Yes, close the case"))
    assert state(teams) == ("closed", ["cancelled"])
    answer = await wait_until(lambda: connector.posted(ADMIN.chat)[before:], what="the answer to the click")
    assert any("closed" in text_of(card_of(a)) for a in answer if a.get("attachments"))
