"""Messages over real HTTP: every command answers in the 1:1 chat; a command typed in a channel is answered
privately; the tenant gate and the SDK's token validation refuse strangers before anything is stored."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import Session, select
from teams_fakes import FakeConnector, FakeOpenId, new_key, sign
from teams_kit import (
    ADMIN,
    APP_ID,
    OTHER_TENANT,
    TENANT,
    UNIT_CHANNEL,
    TeamsServer,
    action,
    card_of,
    count,
    open_card_action,
    text_of,
    user,
    wait_until,
)

from commands.router import TABLE
from storage.clock import FixedClock
from storage.models import AuditEntry, Case, Member, ProcessedRequest, TeamsConversation

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::Warning:microsoft_teams")
BO = user(0xB0, "Bo Berg")
CONCERN = ('concern new severity=high track=child age=15-17 source=school district=Nørrebro basis=rpl115 '
           'summary="Eleven udtrykker støtte til vold"')


def last_card_text(connector: FakeConnector, conversation: str) -> str:
    return text_of(card_of(connector.posted(conversation)[-1]))


async def test_every_command_answers_in_the_one_to_one_chat(teams: TeamsServer, connector: FakeConnector,
                                                             clock: FixedClock) -> None:
    paths = sorted(" ".join(path) for path in TABLE.commands)
    assert len(paths) > 30
    cards = {}
    for path in paths:
        clock.instant += timedelta(seconds=2)  # typed one every two seconds: within the command rate (30 a minute)
        asked = await teams.say(ADMIN, path)
        answers = [a for a in connector.posted(ADMIN.chat) if a.get("replyToId") == asked]
        assert len(answers) == 1, path  # exactly one answer, in the 1:1 chat
        cards[path] = card_of(answers[0])
        text = text_of(cards[path])
        assert "Unknown command" not in text and "Something went wrong" not in text, (path, text)
    assert not [p for p in connector.posted(ADMIN.chat) if "Input.ChoiceSet" in str(p)]  # forms are dialogs
    intake = (await teams.click(ADMIN, open_card_action(cards["concern"])))["value"]
    assert intake["actions"][0]["data"]["koord"]["verb"] == "koord.form"
    assert not connector.posted(UNIT_CHANNEL)  # nothing of it reaches a channel but notices


async def test_a_command_in_a_channel_is_answered_privately_and_leaves_nothing_in_the_channel(
        teams: TeamsServer, connector: FakeConnector) -> None:
    await teams.say(ADMIN, CONCERN)
    await teams.say(ADMIN, "case show KE-2026-0001", channel=UNIT_CHANNEL)
    thread = [c.body for c in connector.calls if c.conversation.startswith(UNIT_CHANNEL + ";")]
    assert thread == []  # no "answered privately" note: the answer is in the 1:1 chat
    posted = card_of(connector.posted(ADMIN.chat)[-1])
    assert "KE-2026-0001" in text_of(posted) and "Eleven udtrykker" not in text_of(posted)
    shown = await teams.click(ADMIN, open_card_action(posted))  # the details: in the dialog only
    assert "Eleven udtrykker" in text_of(shown["value"])


async def test_case_details_never_reach_a_message_only_an_invoke_response(teams: TeamsServer,
                                                                         connector: FakeConnector) -> None:
    await teams.say(ADMIN, CONCERN)
    await teams.say(ADMIN, 'case note KE-2026-0001 "Samtale med skolens AKT-lærer"')
    await teams.say(ADMIN, "case show KE-2026-0001")
    card = card_of(connector.posted(ADMIN.chat)[-1])
    assert "KE-2026-0001" in text_of(card) and action(card, "Open")
    shown = await teams.click(ADMIN, open_card_action(card))
    assert "Eleven udtrykker" in text_of(shown["value"]) and "AKT-lærer" in text_of(shown["value"])
    again = await teams.click(ADMIN, open_card_action(card))  # opened twice: the kept answer, one audited view
    assert text_of(again["value"]) == text_of(shown["value"])
    with Session(teams.svc.engine) as session:
        views = session.exec(select(AuditEntry).where(AuditEntry.action == "case.view")).all()
    assert len(views) == 1
    other = user(0x0E, "Olga Other")  # someone else's click on the same card runs as them
    assert "not a member" in text_of((await teams.click(other, open_card_action(card)))["value"])
    sent = json.dumps([c.body for c in connector.calls])
    assert "Eleven udtrykker" not in sent and "AKT-lærer" not in sent  # no activity ever carried them


async def test_a_user_seen_only_in_a_channel_gets_a_one_to_one_chat_opened(teams: TeamsServer,
                                                                          connector: FakeConnector) -> None:
    await teams.say(ADMIN, f"unit add {BO.aad} role=member org=SSP")
    await teams.say(BO, "case list", channel=UNIT_CHANNEL)
    opened = connector.opened()
    assert opened == [{"members": [{"id": BO.teams_id}], "tenantId": TENANT, "isGroup": False,
                       "channelData": {"tenant": {"id": TENANT}}, "bot": {"id": f"28:{APP_ID}"}}]
    chat = f"a:opened-{BO.teams_id}"  # his welcome, released by his first activity, may arrive there first
    answers = [text_of(card_of(a)) for a in connector.posted(chat)]
    assert any(text.startswith("No cases") or "KE-" in text for text in answers), answers
    with Session(teams.svc.engine) as session:
        refs = {(r.kind, r.key): r for r in session.exec(select(TeamsConversation))}
    assert refs[("user", BO.aad)].conversation_id == chat and refs[("user", BO.aad)].teams_user_id == BO.teams_id
    assert refs[("channel", UNIT_CHANNEL)].service_url == connector.url


async def test_mentions_name_members_and_the_bots_own_mention_is_dropped(teams: TeamsServer,
                                                                         connector: FakeConnector) -> None:
    await teams.say(BO, "help")  # Bo has talked to the bot: his Teams id is known
    text = "<at>koordinator</at> unit add <at>Bo Berg</at> role=member org=SSP"
    entities = [{"type": "mention", "text": "<at>koordinator</at>", "mentioned": {"id": "28:" + APP_ID}},
                {"type": "mention", "text": "<at>Bo Berg</at>", "mentioned": {"id": BO.teams_id, "name": "Bo"}}]
    response = await teams.post(teams.activity(ADMIN, text=text, entities=entities, channel=UNIT_CHANNEL))
    assert response.status_code == 200
    with Session(teams.svc.engine) as session:
        bo = session.exec(select(Member).where(Member.user_id == BO.aad)).one()
    assert (bo.platform, bo.role, bo.org) == ("teams", "member", "SSP")
    answer = card_of(connector.posted(f"a:opened-{ADMIN.teams_id}")[-1])  # Ada spoke only in the channel
    assert "<at>Bo Berg</at> is now member (SSP)" in text_of(answer)
    assert answer["msteams"]["entities"] == [{"type": "mention", "text": "<at>Bo Berg</at>",
                                              "mentioned": {"id": BO.aad, "name": "Bo Berg"}}]
    # an id typed in capitals is the same person
    await teams.say(ADMIN, f"unit add {BO.aad.upper()} role=member org=VINK")
    with Session(teams.svc.engine) as session:
        assert session.exec(select(Member.org).where(Member.user_id == BO.aad)).one() == "VINK"


async def test_a_mentioned_person_the_bot_never_met_is_looked_up_among_the_channels_members(
        teams: TeamsServer, connector: FakeConnector) -> None:
    anna = user(0xA1, "Anna Andersen")
    connector.add_member(anna.teams_id, anna.aad.upper(), "Anna Andersen")  # Teams writes object ids as it likes
    text = "<at>koordinator</at> unit add <at>Anna Andersen</at> role=member org=SOF"
    entities = [{"type": "mention", "text": "<at>koordinator</at>", "mentioned": {"id": "28:" + APP_ID}},
                {"type": "mention", "text": "<at>Anna Andersen</at>",
                 "mentioned": {"id": anna.teams_id, "name": "Anna"}}]
    response = await teams.post(teams.activity(ADMIN, text=text, entities=entities, channel=UNIT_CHANNEL))
    assert response.status_code == 200
    [lookup] = [c for c in connector.calls if c.path == "members"]
    assert lookup.conversation == UNIT_CHANNEL and lookup.authorization.startswith("Bearer ")
    with Session(teams.svc.engine) as session:
        member = session.exec(select(Member).where(Member.user_id == anna.aad)).one()
        ref = session.exec(select(TeamsConversation).where(TeamsConversation.key == anna.aad)).one()
    assert (member.platform, member.org) == ("teams", "SOF")
    assert (ref.teams_user_id, ref.display_name) == (anna.teams_id, "Anna Andersen")
    # her welcome DM opens the 1:1 chat with her, though she has never written to the bot
    welcome = await wait_until(lambda: connector.posted(f"a:opened-{anna.teams_id}"), what="Anna's welcome")
    assert "You have been added to the coordination unit" in text_of(card_of(welcome[0]))

    ghost = {"type": "mention", "text": "<at>Nobody</at>", "mentioned": {"id": "29:not-here", "name": "Nobody"}}
    await teams.post(teams.activity(ADMIN, text="unit add <at>Nobody</at> role=member org=SOF", entities=[ghost],
                                    channel=UNIT_CHANNEL))
    answer = await wait_until(lambda: [a for a in connector.posted() if "Nobody" in json.dumps(a)], what="refusal")
    assert "`Nobody` is no Teams user I know. @Mention them in a channel they are in" in text_of(card_of(answer[-1]))
    assert count(teams.svc, Member) == 2  # Ada and Anna: an unresolved mention names nobody


async def test_a_stranger_is_refused_politely_in_private_and_the_attempt_is_audited(
        teams: TeamsServer, connector: FakeConnector) -> None:
    await teams.say(BO, "case list")
    assert "not a member" in last_card_text(connector, BO.chat)
    with Session(teams.svc.engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "access.denied")).one()
    assert entry.actor == BO.aad


async def test_a_retried_activity_is_acted_on_once(teams: TeamsServer, connector: FakeConnector) -> None:
    activity = teams.activity(ADMIN, text=CONCERN)
    for _ in range(2):
        assert (await teams.post(activity)).status_code == 200
    assert count(teams.svc, Case) == 1
    assert "already been handled" in last_card_text(connector, ADMIN.chat)


@pytest.mark.parametrize("forgery", ["other key", "no token", "expired", "wrong audience", "other issuer",
                                     "other service url"])
async def test_a_forged_activity_is_refused_with_401_and_nothing_is_stored(
        teams: TeamsServer, connector: FakeConnector, forgery: str) -> None:
    activity = teams.activity(ADMIN, text=CONCERN)
    url = activity["serviceUrl"]
    token = {
        "other key": sign(new_key(), audience=APP_ID, service_url=url),
        "no token": None,
        "expired": sign(teams.key, audience=APP_ID, service_url=url, lifetime=-3600),  # type: ignore[arg-type]
        "wrong audience": sign(teams.key, audience="someone-else", service_url=url),  # type: ignore[arg-type]
        "other issuer": sign(teams.key, audience=APP_ID, service_url=url,  # type: ignore[arg-type]
                             issuer="https://evil.example"),
        "other service url": sign(teams.key, audience=APP_ID, service_url="https://evil.example/"),  # type: ignore[arg-type]
    }[forgery]
    response = await teams.post(activity, token=token)
    assert response.status_code == 401
    assert not connector.calls
    for model in (Case, Member, TeamsConversation, AuditEntry, ProcessedRequest):
        assert count(teams.svc, model) == 0, model


async def test_an_activity_from_another_tenant_is_refused_with_403_and_nothing_is_stored(
        teams: TeamsServer, connector: FakeConnector) -> None:
    response = await teams.post(teams.activity(ADMIN, text=CONCERN, tenant=OTHER_TENANT))
    assert response.status_code == 403
    activity = teams.activity(ADMIN, kind="invoke", name="adaptiveCard/action", tenant=OTHER_TENANT,
                              value={"action": {"type": "Action.Execute", "verb": "koord.run",
                                                "data": {"koord": {"cmd": CONCERN}}}})
    assert (await teams.post(activity)).status_code == 403
    assert not connector.calls
    for model in (Case, Member, TeamsConversation, AuditEntry, ProcessedRequest):
        assert count(teams.svc, model) == 0, model


async def test_dev_mode_accepts_unauthenticated_activities_from_the_configured_tenant_only(
        teams_svc, connector: FakeConnector) -> None:  # noqa: ANN001
    dev = teams_svc.settings.model_copy(update={"teams_app_id": None, "teams_app_password": None,
                                                "koordinator_dev": True})
    teams_svc.settings = dev
    async with TeamsServer(teams_svc, connector, None, None) as server:
        assert (await server.post(server.activity(ADMIN, text="help"), token=None)).status_code == 200
        assert connector.posted(ADMIN.chat) and not connector.calls[0].authorization
        refused = await server.post(server.activity(ADMIN, text=CONCERN, tenant=OTHER_TENANT), token=None)
        assert refused.status_code == 403
    assert count(teams_svc, Case) == 0


async def test_with_an_app_id_the_dev_flag_never_switches_authentication_off(
        teams_svc, connector: FakeConnector, openid: FakeOpenId, signing_key) -> None:  # noqa: ANN001
    teams_svc.settings = teams_svc.settings.model_copy(update={"koordinator_dev": True})
    async with TeamsServer(teams_svc, connector, openid, signing_key) as server:
        assert (await server.post(server.activity(ADMIN, text=CONCERN), token=None)).status_code == 401
    assert count(teams_svc, Case) == 0


async def test_teams_mounts_on_the_servers_own_app_beside_health(
        teams_svc, connector: FakeConnector, openid: FakeOpenId, signing_key) -> None:  # noqa: ANN001
    from bot.server import create_app

    app = create_app(teams_svc, delivery_interval=0.05)
    async with TeamsServer(teams_svc, connector, openid, signing_key, app=app) as server:
        assert (await server.http.get("/readyz")).json()["database"] == "ok"
        await server.say(ADMIN, "help")
        assert "koordinator — help" in last_card_text(connector, ADMIN.chat)
