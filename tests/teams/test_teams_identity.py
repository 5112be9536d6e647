"""Teams users are named by their Entra object id (a GUID): the command language and the privacy guard must
accept GUIDs — whose hex groups can look like CPR or phone numbers — while still catching real identifiers."""

from __future__ import annotations

import random
import uuid

import pytest

from bot.teams import config_problem, wanted
from bot.teams.handlers import command_text
from bot.teams.sdk import MessageActivity
from commands.members.platforms import by_shape
from commands.tokenizer import tokenize, user_ref
from storage import pii
from storage.settings import Settings

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::Warning:microsoft_teams")
GUID = "0b5e3c2a-1d4f-4a9b-8c7d-010203123456"  # its last group holds "0102031234", a CPR-like run


def test_guids_pass_the_privacy_guard_in_every_spelling() -> None:
    rng = random.Random(6)
    for _ in range(5000):
        u = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        for spelling in (u, u.upper(), f"<@{u}>", f"@{u}"):
            assert pii.scan(f"unit add {spelling} role=member org=SSP") == [], spelling
    assert pii.scan(f"case refer KE-2026-0001 to=SOF owner={GUID}") == []


def test_identifiers_next_to_a_guid_are_still_found() -> None:
    findings = pii.scan(f"unit add {GUID} ring 22334455 eller 010203-1234")
    assert [f.kind for f in findings] == ["phone", "cpr"]
    assert pii.scan("0102031234") and pii.scan("010203-1234")


def test_a_guid_names_a_teams_user_in_lower_case() -> None:
    assert user_ref(GUID.upper()) == GUID and user_ref(f"<@{GUID.upper()}>") == GUID and user_ref(f"@{GUID}") == GUID
    assert user_ref("U123ABC") == "U123ABC"  # Slack ids keep their case
    assert [t.value for t in tokenize(f"unit add <@{GUID}> role=member")][2] == GUID
    teams = Settings(teams_app_id="app", teams_app_password="secret")  # a Teams deployment
    assert by_shape(GUID, teams) == "teams" and by_shape("U123", teams) == "slack"
    assert by_shape("U0123ABCD", teams) == "slack" and by_shape("Anna", teams) is None
    assert by_shape("Anna", Settings()) == "console"  # no platform configured: the console's own users


def message(text: str, entities: list[dict] | None = None) -> MessageActivity:
    return MessageActivity.model_validate({
        "type": "message", "id": "1", "text": text, "entities": entities or [], "channelId": "msteams",
        "serviceUrl": "https://smba.example/", "from": {"id": "29:a"}, "recipient": {"id": "28:bot"},
        "conversation": {"id": "a:1"}})


@pytest.mark.parametrize("text, entities, expected", [
    ("case list", None, "case list"),
    ("/case list", None, "case list"),
    ("<p>case&nbsp;show KE-2026-0001</p>", None, "case show KE-2026-0001"),
    ("<at>koordinator</at> case list", [{"type": "mention", "text": "<at>koordinator</at>",
                                        "mentioned": {"id": "28:bot"}}], "case list"),
    ("unit add <at>Bo</at> role=member", [{"type": "mention", "text": "<at>Bo</at>",
                                          "mentioned": {"id": "29:bo", "aadObjectId": GUID.upper()}}],
     f"unit add <@{GUID}> role=member"),
    ("unit add <at>Ukendt</at> role=member", [{"type": "mention", "text": "<at>Ukendt</at>",
                                               "mentioned": {"id": "29:x", "name": "Ukendt"}}],
     "unit add @Ukendt role=member"),
    (f"unit add &lt;@{GUID}&gt; role=member", None, f"unit add <@{GUID}> role=member"),
    ('case note KE-2026-0001 &quot;a &lt;b&gt; c&quot;', None, 'case note KE-2026-0001 "a <b> c"'),
    ('<p>case note KE-2026-0001 "første linje<br>anden linje"</p>', None,
     'case note KE-2026-0001 "første linje\nanden linje"'),
])
def test_command_text_is_what_the_user_typed(text: str, entities: list[dict] | None, expected: str) -> None:
    assert command_text(message(text, entities), lambda teams_id: None) == expected


@pytest.mark.parametrize("values, problem", [
    ({}, None),
    ({"teams_app_id": "a", "teams_app_password": "p", "teams_tenant_id": "t"}, None),
    ({"teams_app_id": "a", "teams_tenant_id": "t"}, "TEAMS_APP_PASSWORD"),
    ({"teams_app_password": "p", "teams_tenant_id": "t"}, "TEAMS_APP_ID"),
    ({"teams_app_id": "a", "teams_app_password": "p"}, "TEAMS_TENANT_ID"),
    ({"teams_tenant_id": "t"}, "KOORDINATOR_DEV"),
    ({"teams_tenant_id": "t", "koordinator_dev": True}, None),
])
def test_configuration_problems_are_named(values: dict[str, object], problem: str | None) -> None:
    found = config_problem(Settings(**values))  # type: ignore[arg-type]
    assert (found is None) if problem is None else (problem in (found or ""))


def test_teams_is_served_with_credentials_or_in_dev_mode_for_one_tenant() -> None:
    assert wanted(Settings(teams_app_id="a", teams_app_password="p", teams_tenant_id="t"))
    assert wanted(Settings(koordinator_dev=True, teams_tenant_id="t"))
    assert not wanted(Settings(koordinator_dev=True))
    assert not wanted(Settings())
