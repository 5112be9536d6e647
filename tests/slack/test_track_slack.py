"""`case track` in Slack, through the real bolt app over signed HTTP and the fake Web API: the reply asks with
*Switch procedure* / *Keep checklist* buttons, and *Keep checklist* clicked changes the track only."""

from __future__ import annotations

from fake_slack import FakeSlack
from slack_http import AppServer, block_action
from sqlmodel import Session, col, select
from test_buttons_and_home import button
from test_slash_commands import reply_to

from storage.models import Case, CaseEvent
from storage.profile.tables import CaseStep


def _state(server: AppServer) -> tuple[str, int, list[str]]:
    with Session(server.svc.engine) as session:
        case = session.exec(select(Case)).one()
        steps = session.exec(select(CaseStep).where(CaseStep.case_id == case.id)).all()
        kinds = session.exec(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)
                             .order_by(col(CaseEvent.id))).all()
        return case.track, len(steps), list(kinds)


async def test_keep_checklist_from_a_slack_button(server: AppServer, fake_slack: FakeSlack) -> None:
    await server.slash("/concern", "new severity=high track=child age=15-17 source=school district=Valby "
                       'basis=rpl115 summary="Bekymring"', response_key="c")
    await reply_to(fake_slack, "c")
    await server.slash("/case", "qualify KE-2026-0001 level=preventive", response_key="q")
    await reply_to(fake_slack, "q")
    await server.slash("/case", "track KE-2026-0001 track=adult", response_key="t")
    asked = await reply_to(fake_slack, "t")
    assert "switch=yes" in str(asked)
    assert _state(server)[:2] == ("child", 9)
    keep = button(asked, "koord.case.track_keep")
    assert keep["value"] == "case track KE-2026-0001 track=adult switch=no"
    await server.interaction(block_action(keep["value"], keep["action_id"],
                                          response_url=fake_slack.response_url("k")))
    assert "checklist is kept" in str(await reply_to(fake_slack, "k"))
    track, count, kinds = _state(server)
    assert (track, count, kinds[-1]) == ("adult", 9, "track")
