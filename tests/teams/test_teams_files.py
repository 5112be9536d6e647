"""Files over real HTTP: a reply's or a DM's files are offered in the 1:1 chat (Save → Teams' consent card →
Allow → the file is put at the upload URL, byte for byte, and its file card is posted); only the user they were
offered to can save them; they are encrypted while they wait and gone when the offer expires; a channel's card
gives the files privately instead."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select
from teams_fakes import FakeConnector
from teams_kit import (
    ADMIN,
    UNIT_CHANNEL,
    TeamsServer,
    User,
    action,
    actions,
    card_of,
    open_card_action,
    text_of,
    user,
    wait_until,
)

from bot.teams import render
from storage import teams as refs
from storage.models import AuditEntry, OutboxMessage, TeamsFile

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::Warning:microsoft_teams")
BO = user(0xB0, "Bo Berg")
ADHOC = 'meeting adhoc when="2026-11-24 14:00" duration=60m'  # no topic: a topic is free text (a dialog)


def posted_with(connector: FakeConnector, who: User, content_type: str) -> list[dict[str, Any]]:
    return [a for activity in connector.posted(who.chat) for a in activity.get("attachments") or []
            if a.get("contentType") == content_type]


async def consent(teams: TeamsServer, who: User, context: Any, upload: dict[str, str] | None,
                  action_: str = "accept") -> int:
    value: dict[str, Any] = {"type": "fileUpload", "action": action_, "context": context}
    if upload is not None:
        value["uploadInfo"] = upload
    response = await teams.post(teams.activity(who, kind="invoke", name="fileConsent/invoke", value=value))
    return response.status_code


async def invitation_card(teams: TeamsServer, connector: FakeConnector) -> dict[str, Any]:
    asked = await teams.say(ADMIN, ADHOC)
    answer = next(a for a in connector.posted(ADMIN.chat) if a.get("replyToId") == asked)
    return card_of(answer)


async def test_a_file_in_an_answer_is_saved_to_onedrive_through_the_consent_card(
        teams: TeamsServer, connector: FakeConnector) -> None:
    card = await invitation_card(teams, connector)
    assert "📎 M-2026-001.ics" in text_of(card) and "BEGIN:VCALENDAR" not in json.dumps(card)
    save = action(card, "Save M-2026-001.ics")
    assert save["verb"] == render.FILE

    note = await teams.click(ADMIN, save)
    assert note["value"] == "Allow the file in your chat with koordinator to save it."
    [ask] = posted_with(connector, ADMIN, render.FILE_CONSENT_TYPE)
    assert ask["name"] == "M-2026-001.ics" and ask["content"]["sizeInBytes"] > 100
    assert "BEGIN:VCALENDAR" not in json.dumps(ask)  # the card asks; the file itself stays with us until allowed

    assert await consent(teams, ADMIN, ask["content"]["acceptContext"], connector.upload_info("M-2026-001.ics")) == 200
    [put] = connector.uploads
    assert put.data.startswith(b"BEGIN:VCALENDAR") and b"M-2026-001" in put.data
    assert put.headers["Content-Range"] == f"bytes 0-{len(put.data) - 1}/{len(put.data)}"
    assert "Authorization" not in put.headers  # a pre-authorised URL: no bot token goes to OneDrive
    [shown] = posted_with(connector, ADMIN, render.FILE_INFO_TYPE)
    assert shown["name"] == "M-2026-001.ics" and shown["contentUrl"].endswith("/M-2026-001.ics")
    assert shown["content"] == {"uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C8C", "fileType": "ics"}
    with Session(teams.svc.engine) as session:
        saved = session.exec(select(AuditEntry).where(AuditEntry.action == "file.save")).one()
    assert saved.actor == ADMIN.aad and json.loads(saved.detail)["file"] == "M-2026-001.ics"


async def test_only_the_user_it_was_offered_to_can_save_a_file(teams: TeamsServer,
                                                               connector: FakeConnector) -> None:
    save = action(await invitation_card(teams, connector), "Save")
    await teams.say(ADMIN, f"unit add {BO.aad} role=member org=SSP")
    stolen = await teams.click(BO, save)  # Bo replays Ada's button
    assert stolen["value"] == "The file is no longer available. Ask for it again with the command."
    assert not posted_with(connector, BO, render.FILE_CONSENT_TYPE)
    assert await consent(teams, BO, save["data"], connector.upload_info("M-2026-001.ics")) == 200
    assert not connector.uploads and not posted_with(connector, BO, render.FILE_INFO_TYPE)


async def test_declining_uploads_nothing_and_save_asks_again(teams: TeamsServer, connector: FakeConnector) -> None:
    save = action(await invitation_card(teams, connector), "Save")
    await teams.click(ADMIN, save)
    [ask] = posted_with(connector, ADMIN, render.FILE_CONSENT_TYPE)
    assert await consent(teams, ADMIN, ask["content"]["declineContext"], None, "decline") == 200
    assert not connector.uploads
    await teams.click(ADMIN, save)
    assert len(posted_with(connector, ADMIN, render.FILE_CONSENT_TYPE)) == 2


async def test_a_failed_upload_is_said_privately_and_the_file_can_be_saved_again(
        teams: TeamsServer, connector: FakeConnector) -> None:
    save = action(await invitation_card(teams, connector), "Save")
    await teams.click(ADMIN, save)
    [ask] = posted_with(connector, ADMIN, render.FILE_CONSENT_TYPE)
    connector.upload_status = 507
    assert await consent(teams, ADMIN, ask["content"]["acceptContext"], connector.upload_info("M-2026-001.ics")) == 200
    assert "M-2026-001.ics could not be saved in your OneDrive" in connector.posted(ADMIN.chat)[-1]["text"]
    connector.upload_status = 201
    assert await consent(teams, ADMIN, ask["content"]["acceptContext"], connector.upload_info("M-2026-001.ics")) == 200
    assert len(connector.uploads) == 2 and posted_with(connector, ADMIN, render.FILE_INFO_TYPE)


async def test_an_offered_file_is_encrypted_while_it_waits_and_gone_when_the_offer_expires(
        teams: TeamsServer, connector: FakeConnector, clock: Any) -> None:
    save = action(await invitation_card(teams, connector), "Save")
    with Session(teams.svc.engine) as session:
        [row] = session.exec(select(TeamsFile)).all()
    assert row.user_id == ADMIN.aad and b"VCALENDAR" not in row.content_ct and b"Akut" not in row.content_ct
    clock.instant += refs.FILE_LIFETIME + timedelta(seconds=1)
    gone = await teams.click(ADMIN, save)
    assert gone["value"].startswith("The file is no longer available")
    await teams.say(ADMIN, ADHOC.replace("2026-11-24", "2026-12-10"))  # a new offer clears the expired ones
    with Session(teams.svc.engine) as session:
        [fresh] = session.exec(select(TeamsFile)).all()
    assert fresh.token != row.token and fresh.expires_at == clock.now() + refs.FILE_LIFETIME


async def test_a_dm_with_a_file_offers_it_once_even_when_its_delivery_is_retried(
        teams: TeamsServer, connector: FakeConnector, clock: Any) -> None:
    assert (await teams.post(teams.activity(BO, kind="installationUpdate", action="add"))).status_code == 200
    await teams.say(ADMIN, f"unit add {BO.aad} role=member org=SSP")

    def unsent() -> list[OutboxMessage]:
        with Session(teams.svc.engine) as session:
            return list(session.exec(select(OutboxMessage).where(OutboxMessage.state != "sent")))

    await wait_until(lambda: not unsent(), what="Bo's welcome")
    connector.fail_next(1, status=500, conversation=BO.chat)
    await teams.say(ADMIN, ADHOC)  # Bo is a fixed participant: his invitation DM carries the .ics

    def invitations() -> list[Any]:
        return [c for c in connector.calls if c.conversation == BO.chat and "M-2026-001" in json.dumps(c.body)]

    await wait_until(invitations, what="the first attempt")
    clock.instant += timedelta(seconds=2)  # the retry is due
    await wait_until(lambda: len(invitations()) == 2, what="the invitation, after a retry")
    first, second = (c.body for c in invitations())
    assert [c.status for c in invitations()] == [500, 200]
    assert action(card_of(first), "Save")["data"] == action(card_of(second), "Save")["data"]
    with Session(teams.svc.engine) as session:
        offered = session.exec(select(TeamsFile).where(TeamsFile.user_id == BO.aad)).all()
        dm = session.exec(select(OutboxMessage).where(OutboxMessage.target == BO.aad)).all()[-1]
    assert len(offered) == 1 and offered[0].key == f"outbox:{dm.id}:0"

    await teams.click(BO, action(card_of(second), "Save"))
    [ask] = posted_with(connector, BO, render.FILE_CONSENT_TYPE)
    assert await consent(teams, BO, ask["content"]["acceptContext"], connector.upload_info("M-2026-001.ics")) == 200
    assert connector.uploads[0].data.startswith(b"BEGIN:VCALENDAR")


async def test_the_agenda_in_the_channel_offers_its_files_privately(teams: TeamsServer,
                                                                   connector: FakeConnector) -> None:
    await teams.say(ADMIN, "help", channel=UNIT_CHANNEL)  # the bot is in the unit's channel
    await teams.say(ADMIN, ADHOC + ' topic="Akut: KE-sag"')
    await teams.say(ADMIN, "agenda publish M-2026-001")

    def agenda_posts() -> list[dict[str, Any]]:
        return [card_of(a) for a in connector.posted(UNIT_CHANNEL) if "Get agenda-M-2026-001.pdf" in json.dumps(a)]

    [card] = await wait_until(agenda_posts, what="the agenda in the channel")
    assert not [a for a in actions(card) if a.get("verb") == render.FILE]  # no file is ever posted to a channel
    get = action(card, "Get agenda-M-2026-001.pdf privately")
    note = await teams.click(ADMIN, get, channel=UNIT_CHANNEL)
    assert note["value"] == "Answered privately in your chat with koordinator."
    posted = card_of(connector.posted(ADMIN.chat)[-1])  # the 1:1 chat, where Ada last spoke to the bot
    assert "Akut" not in json.dumps(posted)  # the topic is free text: the chat gets an open card …
    private = (await teams.click(ADMIN, open_card_action(posted)))["value"]  # … and the dialog shows it
    assert "Topic (private only): Akut" in text_of(private)
    channel = json.dumps([c.body for c in connector.calls if c.conversation.startswith(UNIT_CHANNEL)])
    assert render.FILE_CONSENT_TYPE not in channel and "%PDF" not in channel and "Akut" not in channel
    save = action(private, "Save agenda-M-2026-001.pdf")
    assert (await teams.click(ADMIN, save))["value"] == "Allow the file in your chat with koordinator to save it."
    [ask] = posted_with(connector, ADMIN, render.FILE_CONSENT_TYPE)
    assert ask["name"] == "agenda-M-2026-001.pdf"
    await consent(teams, ADMIN, ask["content"]["acceptContext"], connector.upload_info("agenda-M-2026-001.pdf"))
    assert connector.uploads[-1].data.startswith(b"%PDF")
