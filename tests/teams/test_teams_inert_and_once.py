"""Issue 26 over the fake Bot Connector: every Teams write (a typed command, a card's Action.Execute invoke, a
legacy Action.Submit message, a dialog's task/submit) runs once when Teams delivers it again; user text in cards
and dialogs stays text."""

from __future__ import annotations

import json
import re

import pytest
from sqlmodel import Session, func, select
from teams_fakes import FakeConnector
from teams_kit import ADMIN, TeamsServer, card_of, open_card_action, text_of, wait_until
from test_teams_cards import GOOD, open_form

from storage.models import Case, OutboxMessage

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::Warning:microsoft_teams")
CONCERN = ('concern new severity=high track=child age=15-17 source=school district=Nørrebro basis=rpl115 '
           'summary="Bekymring fra skolen"')
HOSTILE = "<at>Anne</at> [klik her](http://evil.example) http://evil.example www.evil.example \u202eFDP"
LIVE = re.compile(r"<at>|\]\(|https?://|www\.|\u202e|evil\.example")


def cases(teams: TeamsServer) -> int:
    with Session(teams.svc.engine) as session:
        return session.exec(select(func.count()).select_from(Case)).one()


async def test_a_replayed_command_message_runs_once(teams: TeamsServer, connector: FakeConnector) -> None:
    activity = teams.activity(ADMIN, text=CONCERN, textFormat="plain")
    for _ in range(2):
        assert (await teams.post(activity)).status_code == 200
    await wait_until(lambda: len(connector.posted(ADMIN.chat)) >= 2, what="both answers")
    assert cases(teams) == 1
    assert "already been handled" in json.dumps(connector.posted(ADMIN.chat))


async def test_a_replayed_form_invoke_saves_once(teams: TeamsServer, connector: FakeConnector) -> None:
    form = await open_form(teams, connector, "concern")  # in a dialog: its submit comes back as task/submit
    submit = form["actions"][0]
    value = {"data": {**submit["data"], **GOOD}, "context": {"theme": "default"}}
    invoke = teams.activity(ADMIN, kind="invoke", name="task/submit", value=value)
    answers = []
    for _ in range(2):
        response = await teams.post(invoke)
        assert response.status_code == 200
        answers.append(json.dumps(response.json()))
    assert cases(teams) == 1
    with Session(teams.svc.engine) as session:
        notices = session.exec(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.target == "unit"))
        assert notices.one() == 1
    assert "KE-2026-0001" in answers[0] and "already been handled" in answers[1]


async def test_a_form_card_left_in_a_chat_from_before_dialogs_refuses_then_saves_once(
        teams: TeamsServer, connector: FakeConnector) -> None:
    """Cards posted before forms moved into dialogs still work: their Action.Execute submit comes back as an
    `adaptiveCard/action` invoke, refused with the same card, saved once when Teams delivers it twice."""
    form = await open_form(teams, connector, "concern")
    data = form["actions"][0]["data"]
    meta = {k: v for k, v in data["koord"].items() if k != "verb"}

    def execute(values: dict[str, str]) -> dict:
        value = {"action": {"type": "Action.Execute", "verb": "koord.form", "data": {"koord": meta, **values}},
                 "trigger": "manual"}
        return teams.activity(ADMIN, kind="invoke", name="adaptiveCard/action", value=value)

    refused = (await teams.post(execute({**GOOD, "summary": ""}))).json()
    assert refused["type"] == "application/vnd.microsoft.card.adaptive" and "Required." in json.dumps(refused)
    assert cases(teams) == 0
    invoke = execute(GOOD)
    answers = [json.dumps((await teams.post(invoke)).json()) for _ in range(2)]
    assert cases(teams) == 1 and "KE-2026-0001" in answers[0] and "already been handled" in answers[1]


async def test_a_replayed_button_invoke_runs_once(teams: TeamsServer, connector: FakeConnector) -> None:
    await teams.say(ADMIN, CONCERN)
    await teams.say(ADMIN, 'followup add KE-2026-0001 due="2026-12-01 10:00" "Ring til skolen"')
    value = {"action": {"type": "Action.Execute", "verb": "koord.run",
                        "data": {"koord": {"cmd": "followup snooze F-2 1w"}}}, "trigger": "manual"}
    invoke = teams.activity(ADMIN, kind="invoke", name="adaptiveCard/action", value=value)
    for _ in range(2):
        assert (await teams.post(invoke)).status_code == 200
    await wait_until(lambda: "already been handled" in json.dumps(connector.posted(ADMIN.chat)), what="replay")
    snoozes = [e for e in _audit(teams) if e == "followup.snooze"]
    assert len(snoozes) == 1


def _audit(teams: TeamsServer) -> list[str]:
    from storage.models import AuditEntry

    with Session(teams.svc.engine) as session:
        return list(session.exec(select(AuditEntry.action)))


async def test_a_legacy_action_submit_message_runs_nothing(teams: TeamsServer, connector: FakeConnector) -> None:
    activity = teams.activity(ADMIN, value={"koord": {"cmd": CONCERN}, **GOOD})
    for _ in range(2):
        assert (await teams.post(activity)).status_code == 200
    assert cases(teams) == 0


async def test_user_text_in_cards_carries_no_links_or_mentions(teams: TeamsServer, connector: FakeConnector) -> None:
    await teams.say(ADMIN, CONCERN)
    await teams.say(ADMIN, f'case note KE-2026-0001 "{HOSTILE}"')
    asked = await teams.say(ADMIN, "case show KE-2026-0001")
    await wait_until(lambda: [a for a in connector.posted(ADMIN.chat) if a.get("replyToId") == asked], what="show")
    shown = next(a for a in connector.posted(ADMIN.chat) if a.get("replyToId") == asked)
    assert "klik her" not in json.dumps(shown)  # the chat keeps the reference; the note shows in the dialog
    card = (await teams.click(ADMIN, open_card_action(card_of(shown))))["value"]
    text = text_of(card)
    assert "klik her" in text and "FDP" in text  # the note is there, as text
    entities = (card.get("msteams") or {}).get("entities") or []
    assert all(e["mentioned"]["id"] != "Anne" and "Anne" not in e["text"] for e in entities)
    for own in {e["text"] for e in entities}:  # the bot's own mentions, built from member ids
        text = text.replace(own, "")
    assert LIVE.findall(text) == [] and LIVE.findall(str(shown.get("text") or "")) == []
