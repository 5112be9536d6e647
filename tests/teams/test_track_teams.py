"""`case track` in Teams: the question comes as a card with *Switch procedure* / *Keep checklist*, and the
button (Action.Execute through the real server and the fake Bot Connector) switches the checklist."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select
from teams_fakes import FakeConnector
from teams_kit import ADMIN, TeamsServer, action, card_of, text_of, wait_until

from storage.models import Case
from storage.profile.tables import CaseStep

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::Warning:microsoft_teams")


def _state(teams: TeamsServer) -> tuple[str, list[tuple[int, str, str]]]:
    with Session(teams.svc.engine) as session:
        case = session.exec(select(Case)).one()
        rows = session.exec(select(CaseStep).where(CaseStep.case_id == case.id).order_by(col(CaseStep.n)))
        return case.track, [(s.n, s.state, s.responsible) for s in rows]


async def test_the_switch_button_replaces_the_checklist(teams: TeamsServer, connector: FakeConnector) -> None:
    await teams.say(ADMIN, 'concern new severity=high track=child age=15-17 source=school district=Valby '
                           'basis=rpl115 summary="Bekymring"')
    await teams.say(ADMIN, "case qualify KE-2026-0001 level=preventive")
    await teams.say(ADMIN, "case step KE-2026-0001 1 done")
    assert len(_state(teams)[1]) == 9
    await teams.say(ADMIN, "case track KE-2026-0001 track=crime")
    asked = card_of(connector.posted(ADMIN.chat)[-1])
    assert "switch=yes" in text_of(asked) and "8 open steps" in text_of(asked)
    assert _state(teams)[0] == "child"
    before = len(connector.posted(ADMIN.chat))
    answer = await teams.click(ADMIN, action(asked, "Switch procedure"))
    shown = str(answer) + "".join(text_of(card_of(a)) for a in connector.posted(ADMIN.chat)[before:])
    if "procedure is switched" not in shown:
        await wait_until(lambda: len(connector.posted(ADMIN.chat)) > before, what="the answer")
        shown += "".join(text_of(card_of(a)) for a in connector.posted(ADMIN.chat)[before:])
    assert "8 open steps removed, 5 new steps added" in shown
    track, steps = _state(teams)
    assert track == "crime"
    assert steps[0] == (1, "done", "secretariat")
    assert [r for _, _, r in steps[1:]] == ["secretariat", "POLICE", "KRIM", "EKP", "owner"]
