"""Every kind of event the code records on a case has a word in every language: the timeline and the subject
access letter never show a code ("Steps_forced")."""

from __future__ import annotations

import re
from pathlib import Path

from commands import messages

ROOT = Path(__file__).resolve().parents[2]
RECORDED = re.compile(r'add_event\([^,]+,\s*[^,]+,\s*"(\w+)"|CaseEvent\([^)]*kind="(\w+)"')


def test_every_recorded_event_kind_has_words_in_every_language() -> None:
    kinds = {a or b for path in [*(ROOT / "commands").rglob("*.py"), *(ROOT / "storage").rglob("*.py")]
             for a, b in RECORDED.findall(path.read_text(encoding="utf-8"))}
    assert len(kinds) > 20 and "steps_forced" in kinds
    worded = set(messages.kinds().get("event", ()))
    assert sorted(kinds - worded) == []
    assert messages.label("da", "event", "steps_forced") == "krævede trin sprunget over"
