"""Cards that follow the case on Teams: the unit channel's notice and a visitation reminder are updated in place
(update activity) when the case is referred — the state shown, the buttons that no longer apply gone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select
from teams_fakes import FakeConnector
from teams_kit import ADMIN, UNIT_CHANNEL, TeamsServer, actions, card_of, text_of, user, wait_until
from test_teams_delivery import reach_unit_channel

from scheduler.jobs.followups import sweep
from storage.models import OutboxMessage

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::Warning:microsoft_teams")
SIF = user(0x5F, "Sif Sekretær")


def notice_id(teams: TeamsServer) -> str | None:
    with Session(teams.svc.engine) as session:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.dedupe_key == "case-notice:KE-2026-0001")).first()
        return row.external_id if row else None


async def test_the_notice_and_the_reminder_follow_the_referral(teams: TeamsServer, connector: FakeConnector,
                                                               clock: Any) -> None:
    reach_unit_channel(teams.svc, connector)
    await teams.say(ADMIN, f"unit add {SIF.aad} role=secretariat org=SSP")
    assert (await teams.post(teams.activity(SIF, kind="installationUpdate", action="add"))).status_code == 200
    await teams.say(ADMIN, 'concern new severity=high track=child age=15-17 source=school district=Valby '
                           'basis=rpl115 summary="Bekymring"')
    notice = card_of((await wait_until(lambda: connector.posted(UNIT_CHANNEL), what="the notice"))[0])
    assert [a["title"] for a in actions(notice)] == ["Show", "Qualify", "Refer…"]
    activity = await wait_until(lambda: notice_id(teams), what="the notice's activity id")

    clock.instant += timedelta(hours=47)  # past 75 % of the 48 hours, in working hours: the warning
    assert sweep(teams.svc, clock.now()).reminded >= 1
    reminder = await wait_until(lambda: [a for a in connector.posted(SIF.chat) if "KE-2026-0001" in str(a)
                                         and actions(card_of(a))], what="the visitation reminder")
    reminder_id = next(c.activity_id for c in connector.calls if c.body is reminder[0])

    await teams.say(ADMIN, "case qualify KE-2026-0001 level=preventive")
    await teams.say(ADMIN, "case refer KE-2026-0001 to=SOF")
    updated = await wait_until(lambda: [c for c in connector.updated(UNIT_CHANNEL) if c.activity_id == activity
                                        and "referred" in text_of(card_of(c.body))], what="the notice updated")
    card = card_of(updated[-1].body)
    assert [a["title"] for a in actions(card)] == ["Show"]  # Qualify and Refer… no longer apply
    assert "Social" in text_of(card) or "SOF" in text_of(card)
    assert len([a for a in connector.posted(UNIT_CHANNEL) if "KE-2026-0001" in str(a)]) == 2  # + the referral's
    followed = await wait_until(lambda: [c for c in connector.updated(SIF.chat) if c.activity_id == reminder_id],
                                what="the reminder updated")
    assert "no longer applies" in text_of(card_of(followed[-1].body)) and not actions(card_of(followed[-1].body))
