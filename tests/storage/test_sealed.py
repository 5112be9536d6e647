"""One declaration per encrypted column (storage/sealed.py): its label opens its ciphertexts before and after
`unit keys rotate`, and no label changes unnoticed (a changed label leaves every stored value unreadable)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from sqlmodel import Session

from storage import sealed
from storage.crypto import Vault
from storage.db import unit_of_work

ROOT = Path(__file__).resolve().parents[2]

# The labels as stored ciphertexts were sealed: edit this table only with a migration that re-encrypts.
PINNED = {
    ("cases", "summary_ct"): "case.summary",
    ("cases", "hold_reason_ct"): "case.hold",
    ("caseevent", "text_ct"): "event.text",
    ("mentorsession", "note_ct"): "mentor.note",
    ("outboxmessage", "payload_ct"): "outbox.payload",
    ("followup", "text_ct"): "followup.text",
    ("meeting", "topic_ct"): "meeting.topic",
    ("minuteentry", "text_ct"): "minutes.text",
    ("teamsfile", "content_ct"): "teams.file",
    ("publication", "text_ct"): "publication.text",
    ("publication", "md_ct"): "publication.md",
    ("publication", "pdf_ct"): "publication.pdf",
    ("case_step", "title_ct"): "step.title",
    ("advice_contact", "text_ct"): "advice.text",
    ("disclosure", "text_ct"): "disclosure.text",
    ("auditentry", "purpose_ct"): "audit.purpose",
}


def _key(column: sealed.Sealed) -> tuple[str, str]:
    return column.model.__table__.name, column.ct  # type: ignore[attr-defined]


def test_every_label_is_pinned_and_none_is_shared() -> None:
    assert {_key(c): c.label for c in sealed.ALL} == PINNED
    assert len({c.label for c in sealed.ALL}) == len(sealed.ALL)
    assert set(sealed.ALL) - set(sealed.ROTATED) == {sealed.AUDIT_PURPOSE}


def test_each_declared_column_names_real_columns() -> None:
    for column in sealed.ALL:
        table = column.model.__table__  # type: ignore[attr-defined]
        assert column.ct in table.columns and column.kid in table.columns, column


def test_each_label_opens_its_own_ciphertext_before_and_after_rotation(svc) -> None:
    vault = Vault(svc.keys.master_key, svc.clock)
    with unit_of_work(svc.engine) as session:
        sealed_before = {c: vault.encrypt(session, f"tekst i {c.label}", c.label) for c in sealed.ALL}
        old, new = vault.rotate(session)
    fresh = Vault(svc.keys.master_key, svc.clock)  # nothing cached: the key rows are read back
    with Session(svc.engine) as session:
        for column, (ct, kid) in sealed_before.items():
            assert kid == old
            assert fresh.decrypt(session, ct, kid, column.label) == f"tekst i {column.label}"
            again, again_kid = fresh.encrypt(session, fresh.decrypt(session, ct, kid, column.label), column.label)
            assert again_kid == new
            assert fresh.decrypt(session, again, again_kid, column.label) == f"tekst i {column.label}"
            other = next(c for c in sealed.ALL if c is not column)
            with pytest.raises(InvalidTag):  # a ciphertext cannot be moved to another column
                fresh.decrypt(session, ct, kid, other.label)


def _literal_labels(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("encrypt", "decrypt") and node.args:
            label = node.args[-1]
            if isinstance(label, ast.Constant | ast.JoinedStr):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_code_spells_a_label_where_it_encrypts_or_decrypts() -> None:
    paths = [p for room in ("bot", "commands", "scheduler", "storage") for p in (ROOT / room).rglob("*.py")
             if "migrations" not in p.parts]
    assert [hit for p in paths for hit in _literal_labels(p)] == []
