"""Adaptive Cards over real HTTP: the intake, lookup and subject forms (Action.Execute), errors shown on the
card with nothing stored, buttons run as the clicking user, and every card fits what Teams renders."""

from __future__ import annotations

import json
from typing import Any

import pytest
from microsoft_teams.cards import AdaptiveCard
from sqlmodel import Session, select
from teams_fakes import FakeConnector
from teams_kit import ADMIN, UNIT_CHANNEL, TeamsServer, action, actions, card_of, count, text_of, user, wait_until

from bot.teams import render
from commands.reply import Attachment, Button, FieldLine, Reply
from storage.models import AuditEntry, Case, Member, OutboxMessage, Subject

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::Warning:microsoft_teams")
CPR = "010203-1234"
GOOD = {"severity": "high", "track": "child", "source": "school", "district": "Nørrebro", "basis": "rpl115",
        "indicators": "isolation,travel_intent", "received": "", "summary": "Bekymring fra skolen om isolation",
        "subject1_age": "15-17", "subject1_identifier": ""}
# Adaptive Cards 1.5, what Teams renders: no element of a later schema may slip in.
ELEMENTS_1_5 = {"AdaptiveCard", "TextBlock", "FactSet", "ActionSet", "Container", "ColumnSet", "Column", "Image",
                "RichTextBlock", "TextRun", "Input.Text", "Input.ChoiceSet", "Input.Date", "Input.Time",
                "Input.Number", "Input.Toggle", "Action.Execute", "Action.ShowCard", "Action.OpenUrl",
                "Action.ToggleVisibility", "Action.Submit", "Table", "TableRow", "TableCell",
                "Data.Query"}  # Teams' typeahead for Input.ChoiceSet (`choices.data`), supported on 1.5 cards


def check_card(card: dict[str, Any]) -> None:
    assert card["version"] == "1.5" and card["type"] == "AdaptiveCard"
    AdaptiveCard.model_validate(card)
    assert len(json.dumps(card, ensure_ascii=False)) <= render.MAX_CARD_CHARS

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("type"), str) and node["type"][0].isupper():
                assert node["type"] in ELEMENTS_1_5, node["type"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in card.items() if k != "msteams"})


async def open_form(teams: TeamsServer, connector: FakeConnector, command: str) -> dict[str, Any]:
    """A bare form command posts an *Open form* card; its button opens the form in a dialog (task/fetch)."""
    card = await teams.open(ADMIN, command)
    check_card(card)
    posted = card_of(connector.posted(ADMIN.chat)[-1])
    assert not [e for e in posted["body"] if e["type"].startswith("Input.")]  # the chat holds no form
    return card


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in card["body"] if e["type"].startswith("Input.")}


def shown_card(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer["type"] == "application/vnd.microsoft.card.adaptive", answer
    check_card(answer["value"])
    return answer["value"]


async def test_intake_card_saves_the_concern_and_the_card_gives_way_to_the_answer(
        teams: TeamsServer, connector: FakeConnector) -> None:
    form = await open_form(teams, connector, "concern")
    fields = inputs(form)
    assert fields["district"]["choices"][1] == {"title": "Østerbro", "value": "Østerbro"}
    assert fields["indicators"]["isMultiSelect"] is True and fields["summary"]["isMultiline"] is True
    assert fields["subject1_identifier"]["style"] == "Password" and "🔒" in fields["subject1_identifier"]["label"]
    answer = await teams.click(ADMIN, form["actions"][0], {**GOOD, "subject1_identifier": CPR,
                                                           "subject2_age": "0-14"})
    done = shown_card(answer)
    assert "Registered as KE-2026-0001" in text_of(done) and not inputs(done)
    with Session(teams.svc.engine) as session:
        case = session.exec(select(Case)).one()
        assert sorted(s.linked for s in session.exec(select(Subject))) == [False, True]
    assert case.indicators == "isolation,travel_intent"
    notice = await wait_until(lambda: connector.posted(UNIT_CHANNEL), what="unit channel notice")
    text = text_of(card_of(notice[0]))
    assert "KE-2026-0001" in text and "isolation" not in text and "skolen" not in text
    assert CPR not in json.dumps([c.body for c in connector.calls])


@pytest.mark.parametrize("change, field", [
    ({"summary": f"Faderen har CPR {CPR}"}, "summary"),
    ({"summary": "skriv til far@example.dk"}, "summary"),
    ({"severity": ""}, "severity"),
    ({"subject2_identifier": CPR}, "subject2_age"),
    ({"subject1_identifier": "Ole"}, "subject1_identifier"),
])
async def test_a_refused_intake_shows_the_error_on_the_card_and_stores_nothing(
        teams: TeamsServer, connector: FakeConnector, change: dict[str, str], field: str) -> None:
    form = await open_form(teams, connector, "concern")
    answer = shown_card(await teams.click(ADMIN, form["actions"][0], {**GOOD, "subject1_identifier": CPR,
                                                                      **change}))
    body = answer["body"]
    assert body[2]["text"] == "The form was not saved. Correct the marked fields." and body[2]["color"] == "Attention"
    position = next(i for i, e in enumerate(body) if e.get("id") == field)
    assert body[position + 1]["color"] == "Attention"  # the error sits right under its field
    assert "010203" not in json.dumps(answer)  # neither the refused text nor the identifier is sent back
    kept = inputs(answer)
    assert kept["district"]["value"] == "Nørrebro" and "value" not in kept[field]
    assert answer["actions"][0]["data"]["koord"]["verb"] == "koord.form"  # the corrected form can be sent again
    assert count(teams.svc, Case) == 0 and count(teams.svc, OutboxMessage) == 0
    fixed = shown_card(await teams.click(ADMIN, answer["actions"][0], GOOD))
    assert "Registered as KE-2026-0001" in text_of(fixed)


async def test_lookup_card_requires_a_purpose_and_audits_the_lookup(teams: TeamsServer,
                                                                   connector: FakeConnector) -> None:
    form = await open_form(teams, connector, "concern lookup")
    answer = shown_card(await teams.click(ADMIN, form["actions"][0], {"identifier": CPR, "purpose": ""}))
    assert "required" in text_of(answer).lower() and CPR not in json.dumps(answer)
    assert not _lookups(teams)
    answer = shown_card(await teams.click(ADMIN, answer["actions"][0], {"identifier": CPR, "purpose": "Møde"}))
    assert "no cases" in text_of(answer)
    assert [(e.result, CPR in e.detail) for e in _lookups(teams)] == [("not_found", False)]


def _lookups(teams: TeamsServer) -> list[AuditEntry]:
    with Session(teams.svc.engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == "concern.lookup")))


async def test_buttons_run_their_command_as_the_clicking_user(teams: TeamsServer, connector: FakeConnector) -> None:
    stranger = user(0x5E, "Sam Stranger")
    await teams.say(ADMIN, 'concern new severity=high track=child age=15-17 source=school district=Valby '
                           'basis=rpl115 summary="Bekymring"')
    notice = card_of((await wait_until(lambda: connector.posted(UNIT_CHANNEL), what="notice"))[0])
    assert [a["title"] for a in actions(notice)] == ["Show", "Qualify", "Refer…"]
    answer = await teams.click(ADMIN, action(notice, "Qualify"), channel=UNIT_CHANNEL)
    assert answer == {"statusCode": 200, "type": "application/vnd.microsoft.activity.message",
                      "value": "Answered privately in your chat with koordinator."}
    assert "is being qualified" in text_of(card_of(connector.posted(ADMIN.chat)[-1]))  # her known 1:1 chat
    # the same button clicked by someone who is not a member runs as them: refused, in the dialog it opens
    shown = await teams.click(stranger, action(notice, "Show"), channel=UNIT_CHANNEL)
    assert "not a member" in text_of(shown["value"])


async def test_the_refer_button_opens_a_dialog_with_the_owner_picked_by_name(teams: TeamsServer,
                                                                             connector: FakeConnector) -> None:
    anna = user(0xA1, "Anna Andersen")
    await teams.say(ADMIN, f"unit add {anna.aad} role=member org=SOF name=\"Anna Andersen\"")
    await teams.say(ADMIN, 'concern new severity=normal track=adult age=25+ source=police district=Valby '
                           'basis=rpl115 summary="Bekymring"')
    reply = card_of(connector.posted(ADMIN.chat)[-1])
    await teams.say(ADMIN, "case qualify KE-2026-0001 level=preventive")
    refer = action(reply, "Refer")
    assert refer["type"] == "Action.Submit" and refer["data"]["msteams"] == {"type": "task/fetch"}
    dialog = shown_card(await teams.click(ADMIN, refer))
    fields = inputs(dialog)
    assert "SOF" in [c["value"] for c in fields["to"]["choices"]]
    # a name (and org: the registered form's member choices, issue 22), not an object id
    assert {"title": "Anna Andersen (SOF)", "value": anna.aad} in fields["owner"]["choices"]
    assert "Entra" not in text_of(dialog)
    before = len(connector.posted())
    answer = shown_card(await teams.click(ADMIN, dialog["actions"][0], {"to": "SOF", "owner": anna.aad}))
    assert "is referred to SOF" in text_of(answer)
    with Session(teams.svc.engine) as session:
        case = session.exec(select(Case)).one()
        owner = session.exec(select(Member).where(Member.id == case.owner_id)).one()
    assert case.state == "referred" and owner.user_id == anna.aad
    assert not [a for a in connector.posted()[before:] if "is referred to SOF" in json.dumps(a)
                and a["conversation"]["id"] == ADMIN.chat]  # the answer was the dialog's, not a chat message


async def test_a_typed_referral_names_the_owner_by_display_name(teams: TeamsServer, connector: FakeConnector) -> None:
    anna, anne = user(0xA1, "Anna Andersen"), user(0xA2, "Anna Berg")
    for u in (anna, anne):
        await teams.say(ADMIN, f'unit add {u.aad} role=member org=SOF name="{u.name}"')
    await teams.say(ADMIN, 'concern new severity=normal track=adult age=25+ source=police district=Valby '
                           'basis=rpl115 summary="Bekymring"')
    await teams.say(ADMIN, "case qualify KE-2026-0001 level=preventive")
    await teams.say(ADMIN, 'case refer KE-2026-0001 to=SOF owner="anna"')
    assert "Several members are called anna" in text_of(card_of(connector.posted(ADMIN.chat)[-1]))
    await teams.say(ADMIN, 'case refer KE-2026-0001 to=SOF owner="anna andersen"')
    with Session(teams.svc.engine) as session:
        case = session.exec(select(Case)).one()
        assert session.get(Member, case.owner_id).user_id == anna.aad  # type: ignore[union-attr]


async def test_the_people_picker_filters_members_as_you_type(teams: TeamsServer) -> None:
    for n in range(20):
        await teams.say(ADMIN, f'unit add {user(0x100 + n, "x").aad} role=member org=SOF name="Medlem {n:02d}"')
    await teams.say(ADMIN, f'unit add {user(0xA1, "x").aad} role=member org=SOF name="Søren Ærø"')
    await teams.say(ADMIN, 'concern new severity=normal track=adult age=25+ source=police district=Valby '
                           'basis=rpl115 summary="Bekymring"')
    await teams.say(ADMIN, "case qualify KE-2026-0001 level=preventive")
    dialog = await teams.open(ADMIN, "case refer KE-2026-0001")
    picker = inputs(dialog)["owner"]
    assert picker["choices.data"] == {"type": "Data.Query", "dataset": "members"} and picker["style"] == "filtered"
    found = await teams.invoke(ADMIN, "application/search", {"queryText": "soren", "dataset": "members",
                                                             "queryOptions": {"top": 15, "skip": 0}})
    assert found["type"] == "application/vnd.microsoft.search.searchResponse"
    assert found["value"]["results"] == [{"title": "Søren Ærø", "value": user(0xA1, "x").aad}]
    stranger = await teams.invoke(user(0x5E, "Sam"), "application/search", {"queryText": "m", "dataset": "members"})
    assert stranger["value"]["results"] == []  # who is in the unit is for its members only


def test_replies_render_within_teams_limits() -> None:
    huge = Reply(title="Cases", text="\n".join(f"KE-2026-{n:04d} · new · high · child · SOF" for n in range(3000)),
                 fields=[FieldLine("Summary", "x" * 9000), FieldLine("State", "new")],
                 buttons=[Button(f"B{n}", "case.show", "", f"case show KE-2026-{n:04d}") for n in range(9)],
                 attachments=[Attachment("agenda.md", "text/markdown", b"# Agenda\n- KE-2026-0001"),
                              Attachment("report.pdf", "application/pdf", b"%PDF" + b"0" * 50_000)])
    card = render.reply_card(huge, "en")
    check_card(card)
    assert card["body"][-2]["text"].startswith("… truncated")
    assert len(actions(card)) == 9  # six as the card's actions, the rest in an action set
    small = render.reply_card(Reply(text="x", attachments=huge.attachments), "en")  # a channel: no files
    text = text_of(small)
    assert "# Agenda" in text and "report.pdf can only be sent in your chat with koordinator." in text
    assert "%PDF" not in text and not actions(small)


def test_files_are_saved_from_a_one_to_one_chat_and_fetched_privately_from_a_channel() -> None:
    files = [Attachment("agenda-M-2026-001.md", "text/markdown", b"# Agenda", "agenda M-2026-001 format=md"),
             Attachment("agenda-M-2026-001.pdf", "application/pdf", b"%PDF-1.4", "agenda M-2026-001 format=pdf")]
    reply = Reply(text="Agenda", buttons=[Button("Show", "case.show", "", "case show KE-2026-0001")],
                  attachments=files)
    personal = render.reply_card(reply, "en", files=["tok-md", "tok-pdf"])
    check_card(personal)
    assert [(a["title"], a["verb"], a["data"]) for a in actions(personal)[1:]] == [
        ("Save agenda-M-2026-001.md", render.FILE, {"koord": {"file": "tok-md"}}),
        ("Save agenda-M-2026-001.pdf", render.FILE, {"koord": {"file": "tok-pdf"}})]
    channel = render.reply_card(reply, "en")
    check_card(channel)
    assert [(a["title"], a["data"]) for a in actions(channel)[1:]] == [
        ("Get agenda-M-2026-001.md privately", {"koord": {"cmd": "agenda M-2026-001 format=md"}}),
        ("Get agenda-M-2026-001.pdf privately", {"koord": {"cmd": "agenda M-2026-001 format=pdf"}})]
    assert "%PDF" not in json.dumps(personal) + json.dumps(channel)


async def test_the_subject_card_adds_a_linked_subject_without_storing_the_identifier(
        teams: TeamsServer, connector: FakeConnector) -> None:
    await teams.say(ADMIN, 'concern new severity=high track=child age=15-17 source=school district=Valby '
                           'basis=rpl115 summary="Bekymring"')
    form = await open_form(teams, connector, "case subject add KE-2026-0001")
    assert form["actions"][0]["data"]["koord"]["ctx"] == {"case": "KE-2026-0001"}
    refused = shown_card(await teams.click(ADMIN, form["actions"][0], {"age": "", "identifier": CPR}))
    assert "value" not in inputs(refused)["identifier"] and CPR not in json.dumps(refused)
    done = shown_card(await teams.click(ADMIN, refused["actions"][0], {"age": "25+", "identifier": CPR}))
    assert "(25+) added to KE-2026-0001." in text_of(done)
    with Session(teams.svc.engine) as session:
        subjects = list(session.exec(select(Subject)))
    assert sorted((s.age_band, s.linked) for s in subjects) == [("15-17", False), ("25+", True)]


async def test_unit_add_picks_the_new_member_from_the_organisation(teams: TeamsServer,
                                                                   connector: FakeConnector) -> None:
    """The person `unit add` adds is no member yet: Teams' own people picker searches the directory and submits
    their Entra object id."""
    dialog = await teams.open(ADMIN, "unit add")
    picker = inputs(dialog)["user"]
    assert picker["type"] == "Input.ChoiceSet" and picker["style"] == "filtered"
    assert picker["choices.data"] == {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}
    new = user(0xA7, "Nina Ny")
    answer = shown_card(await teams.click(ADMIN, dialog["actions"][0], {"user": new.aad, "role": "member",
                                                                         "org": "SOF", "name": "Nina Ny"}))
    assert "Nina Ny" in text_of(answer) or "is now member" in text_of(answer), text_of(answer)
    with Session(teams.svc.engine) as session:
        added = session.exec(select(Member).where(Member.user_id == new.aad)).one()
    assert (added.role, added.org, added.display_name) == ("member", "SOF", "Nina Ny")
