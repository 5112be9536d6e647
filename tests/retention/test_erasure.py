"""Retention erasure of one case: what goes, what stays, the audit log after it, holds and reopening."""

from __future__ import annotations

import json

import pytest
from retkit import ADMIN, Rich, at, ok, rich_case, seed, sqlite_bytes
from sqlmodel import select

from commands.context import Services
from commands.reply import Invocation
from commands.retention import erase
from commands.router import dispatch
from storage import audit
from storage.db import unit_of_work
from storage.fact_tables import ReportCase, ReportEngagement, ReportOffer, ReportSubject
from storage.models import (
    AgendaItem,
    AuditEntry,
    Case,
    CaseEvent,
    Engagement,
    FollowUp,
    MentorSession,
    MinuteEntry,
    Offer,
    Publication,
    Subject,
)
from storage.pseudonym import format_pseudonym
from tests.commands.cmdkit import decrypted_texts, dump_values, outbox_messages, reply_text

# Written before work procedures: its cases close without ticking checklist steps (or it counts reminders
# and agenda items that steps would add); procedures have their own tests (tests/profile/test_steps.py).
pytestmark = pytest.mark.procedures_off


def facts(svc: Services) -> list[tuple]:
    with unit_of_work(svc.engine) as session:
        out: list[tuple] = []
        for model in (ReportCase, ReportSubject, ReportOffer, ReportEngagement):
            for row in session.exec(select(model)):
                values = row.model_dump()
                values.pop("id", None)
                out.append((model.__tablename__, tuple(sorted(values.items()))))
        return sorted(out, key=repr)


def case_of(svc: Services, ref: str) -> Case:
    with unit_of_work(svc.engine) as session:
        return session.exec(select(Case).where(Case.ref == ref)).one()


def rows_for(svc: Services, case_id: int) -> dict[str, int]:
    with unit_of_work(svc.engine) as session:
        counts = {m.__name__: len(list(session.exec(select(m).where(m.case_id == case_id))))  # type: ignore[attr-defined]
                  for m in (Subject, Offer, Engagement, FollowUp, CaseEvent, MinuteEntry, AgendaItem)}
        counts["MentorSession"] = len(list(session.exec(select(MentorSession))))
        return counts


def test_a_case_is_erased_on_its_day_and_not_before(svc, clock):
    seed(svc)
    r = rich_case(svc, clock)
    closed = case_of(svc, r.ref).closed_at
    assert closed is not None
    at(clock, "2028-11-21 23:59")  # closed 23 Nov 2026 (local) + 730 days = 22 Nov 2028 (a leap year between)
    assert erase.erase_due(svc, clock.now()) == []
    at(clock, "2028-11-22 00:00")
    assert erase.erase_due(svc, clock.now()) == [r.ref]
    assert erase.erase_due(svc, clock.now()) == []  # idempotent


def _erase(svc: Services, clock, r: Rich) -> None:
    at(clock, "2028-11-24 09:00")
    assert erase.erase_due(svc, clock.now()) == [r.ref]


def test_erasure_removes_free_text_subjects_and_links_and_keeps_a_tombstone(svc, clock, db_url):
    seed(svc)
    r = rich_case(svc, clock)
    before = case_of(svc, r.ref)
    assert before.id is not None and rows_for(svc, before.id)["Subject"] == 2
    facts_before = facts(svc)
    with unit_of_work(svc.engine) as session:
        frozen = [p.kind for p in session.exec(select(Publication)) if r.ref in p.refs.split(",")]
    assert sorted(frozen) == ["agenda", "minutes"]
    _erase(svc, clock, r)
    with unit_of_work(svc.engine) as session:
        assert not [p for p in session.exec(select(Publication)) if r.ref in p.refs.split(",")]
    after = case_of(svc, r.ref)
    assert after.summary_ct is None and after.fact_key is None and after.erased_at is not None
    assert after.severity == after.track == after.district == "" and after.close_reason is None
    assert all(n == 0 for n in rows_for(svc, before.id).values()), rows_for(svc, before.id)
    assert facts(svc) == facts_before  # the anonymous facts stay, untouched
    texts = "\n".join(decrypted_texts(svc))
    for name, secret in r.secrets.items():
        if name != "other_summary":
            assert secret not in texts, name
    assert r.secrets["other_summary"] in texts  # case B is not touched
    assert r.y not in texts and format_pseudonym(r.y) not in texts and r.ref not in texts
    for _kind, _target, reply in outbox_messages(svc):
        shown = reply_text(reply)
        assert r.ref not in shown and r.y not in shown and format_pseudonym(r.y) not in shown
    # The same person (X) is still linked in case B; Y is gone everywhere.
    with unit_of_work(svc.engine) as session:
        left = set(session.exec(select(Subject.pseudonym)))
    assert r.x in left and r.y not in left
    dumped = "\n".join(str(v) for _t, _c, v in dump_values(svc))
    assert r.y not in dumped and format_pseudonym(r.y) not in dumped
    if db_url.startswith("sqlite"):
        raw = sqlite_bytes(db_url)
        assert r.y.encode() not in raw and format_pseudonym(r.y).encode() not in raw
        for name, secret in r.secrets.items():
            assert secret.encode() not in raw, name  # free text was only ever stored encrypted


def test_the_tombstone_shows_and_lists_and_cannot_be_reopened(svc, clock):
    seed(svc)
    r = rich_case(svc, clock)
    _erase(svc, clock, r)
    shown = ok(svc, f"case show {r.ref}")
    assert f"{r.ref} · erased 24 Nov 2028" in shown.text and not shown.fields
    listed = ok(svc, "case list closed")
    assert f"{r.ref} · erased 24 Nov 2028" in listed.text
    for text in (f"case reopen {r.ref}", f'case note {r.ref} "x"', f'case hold {r.ref} reason="klage"'):
        reply = dispatch(svc, Invocation(user_id=ADMIN, text=text, platform="console"))
        assert not reply.ok and "was erased on 24 Nov 2028" in reply.text and "cannot be reopened" in reply.text


def test_the_audit_log_is_redacted_and_still_verifies(svc, clock):
    seed(svc)
    r = rich_case(svc, clock)
    ok(svc, f'case hold {r.ref} reason="Klage over sagsbehandlingen"')
    ok(svc, f"case release {r.ref}")
    _erase(svc, clock, r)
    with unit_of_work(svc.engine) as session:
        entries = list(session.exec(select(AuditEntry).where(AuditEntry.case_ref == r.ref)))
        report = audit.verify(session)
    erased = [e for e in entries if e.action == "case.erase"]
    assert len(erased) == 1
    counts = json.loads(erased[0].detail)
    assert counts["subjects"] == 2 and counts["mentor_logs"] == 1 and counts["minutes"] == 1
    assert counts["notes"] >= 2 and counts["summary"] == 1 and counts["why"] == "retention"
    others = [e for e in entries if e.action != "case.erase"]
    assert others and all(e.redacted == "retention" and e.detail == "{}" and e.purpose_ct is None for e in others)
    assert report.ok and report.redacted == len(others) == counts["audit_redacted"]
    reply = ok(svc, "unit audit verify")
    assert "intact" in reply.text and f"{len(others)}" in reply.text


def test_redaction_does_not_let_a_tamperer_hide_an_entry(svc, clock):
    seed(svc)
    r = rich_case(svc, clock)
    with unit_of_work(svc.engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.case_ref == r.other)).first()
        assert entry is not None
        entry.detail, entry.redacted = "{}", "retention"  # a redaction with no erasure of that case after it
        session.add(entry)
    with unit_of_work(svc.engine) as session:
        assert not audit.verify(session).ok


def test_a_held_case_survives_until_released(svc, clock):
    seed(svc)
    r = rich_case(svc, clock)
    reply = dispatch(svc, Invocation(user_id=ADMIN, text=f"case hold {r.ref}", platform="console"))
    assert reply.form is not None and [f.name for f in reply.form.fields] == ["reason"]  # typed bare: its form
    ok(svc, f'case hold {r.ref} reason="Indsigtsanmodning verserer"')
    shown = ok(svc, f"case show {r.ref}")
    assert "Indsigtsanmodning verserer" in reply_text(shown) and "On hold" in reply_text(shown)
    assert "on hold" in ok(svc, "case list closed").text
    retention = reply_text(ok(svc, "unit retention"))
    assert r.ref in retention and "Indsigtsanmodning" in retention
    at(clock, "2029-06-01 09:00")
    assert erase.erase_due(svc, clock.now()) == []
    ok(svc, f"case release {r.ref}")
    assert erase.erase_due(svc, clock.now()) == [r.ref]
    with unit_of_work(svc.engine) as session:
        actions = [e.action for e in session.exec(select(AuditEntry).where(AuditEntry.case_ref == r.ref))]
    assert "case.hold" in actions and "case.release" in actions


def test_hold_is_for_admins_only(svc, clock):
    seed(svc)
    r = rich_case(svc, clock)
    reply = dispatch(svc, Invocation(user_id="U_SEC", text=f'case hold {r.ref} reason="x"', platform="console"))
    assert not reply.ok
    assert case_of(svc, r.ref).hold_at is None


def test_reopening_restarts_the_clock(svc, clock):
    seed(svc)
    r = rich_case(svc, clock)
    at(clock, "2027-06-01 10:00")
    ok(svc, f"case reopen {r.ref}")
    at(clock, "2027-07-01 10:00")
    ok(svc, f"case close {r.ref} reason=other")
    at(clock, "2028-11-24 09:00")  # 730 days after the first closing: not due any more
    assert erase.erase_due(svc, clock.now()) == []
    at(clock, "2029-07-01 00:30")
    assert erase.erase_due(svc, clock.now()) == [r.ref]


def test_unfounded_cases_go_after_180_days(svc, clock):
    seed(svc)
    ok(svc, 'concern new severity=normal track=adult age=25+ source=police district=Valby basis=rpl115 '
            'summary="Grundløs bekymring"')
    with unit_of_work(svc.engine) as session:
        ref = session.exec(select(Case.ref)).one()
    ok(svc, f"case close {ref} reason=unfounded")  # 23 Nov 2026 → erased from 22 May 2027
    at(clock, "2027-05-21 23:00")
    assert erase.erase_due(svc, clock.now()) == []
    at(clock, "2027-05-22 00:01")
    assert erase.erase_due(svc, clock.now()) == [ref]
