"""Issue 25's promises that are words rather than traffic: a Danish member sees a reference card with *Åbn* (the
details are not in it), a stub says when the details were shown, and docs/teams.md tells the data protection
officer what stays in Microsoft 365 and for how long."""

from __future__ import annotations

import json
import re
from pathlib import Path

from teams_kit import actions, text_of

from bot.teams import dialogs
from commands.reply import Button, FieldLine, Reply

ROOT = Path(__file__).resolve().parents[2]


def test_a_danish_reference_card_has_the_reference_and_aabn_and_no_details() -> None:
    reply = Reply(title="KE-2026-0001", text="Eleven udtrykker støtte til vold", details=True,
                  fields=[FieldLine("Resumé", "Eleven udtrykker støtte til vold")],
                  buttons=[Button("Visitér…", "case.refer", "", "case refer KE-2026-0001")])
    card = dialogs.open_card(reply, "case show KE-2026-0001", "da", token="t")
    assert "KE-2026-0001" in text_of(card) and "Eleven" not in json.dumps(card, ensure_ascii=False)
    [button] = actions(card)
    assert button["title"] == "Åbn" and button["data"]["msteams"] == {"type": "task/fetch"}
    stub = dialogs.stub_card("da", "kl. 10.12", "case show KE-2026-0001")
    assert text_of(stub).startswith("Vist kl. 10.12 — åbn igen") and actions(stub)[0]["title"] == "Åbn igen"


def test_docs_tell_the_data_protection_officer_what_stays_in_microsoft_365() -> None:
    text = (ROOT / "docs" / "teams.md").read_text(encoding="utf-8")
    section = text.split("## What stays in Microsoft 365", 1)[1].split("\n## ", 1)[0]
    for promise in ("retention", "eDiscovery", "erasure cannot reach", "Never in a message", "dialogs",
                    "TEAMS_DETAILS_TTL", "default 600", "earlier version", "data protection officer", "OneDrive"):
        assert promise in section, promise
    privacy = (ROOT / "docs" / "privacy.md").read_text(encoding="utf-8")
    assert re.search(r"^#+ What stays in Microsoft 365 \(Teams\)", privacy, re.MULTILINE)
