"""`subject export` and `subject erase` (admin): everything on one person and nothing on others; erasure after a
confirmation, across cases; both audited."""

from __future__ import annotations

import json

import pytest
from retkit import ADMIN, PERSON_X, PERSON_Y, SEC, ok, rich_case, seed, subjects
from sqlmodel import select

from commands.reply import Invocation
from commands.router import dispatch, submit_form
from storage import audit
from storage.db import unit_of_work
from storage.fact_tables import ReportCase, ReportOffer, ReportSubject
from storage.models import AuditEntry, Case, MentorSession, Subject
from storage.pseudonym import format_pseudonym
from tests.commands.cmdkit import decrypted_texts

# Written before work procedures: its cases close without ticking checklist steps (or it counts reminders
# and agenda items that steps would add); procedures have their own tests (tests/profile/test_steps.py).
pytestmark = pytest.mark.procedures_off


def submit(svc, form_id: str, values: dict[str, str], user: str = ADMIN):
    return submit_form(svc, Invocation(user_id=user, text="", platform="console"), form_id, values)


def export(svc, identifier: str) -> str:
    result = submit(svc, "subject.export", {"identifier": identifier, "purpose": "Indsigtsanmodning j.nr. 7"})
    assert result.reply is not None and result.reply.ok, result
    md, pdf = result.reply.attachments
    assert md.filename.endswith(".md") and pdf.filename.endswith(".pdf") and pdf.data.startswith(b"%PDF")
    assert "KE-" not in md.filename
    return md.data.decode("utf-8")


def test_export_holds_everything_on_the_person_and_nothing_on_others(svc, clock):
    seed(svc)
    r = rich_case(svc, clock)
    ok(svc, f"case show {r.ref}", user=SEC)
    y = export(svc, PERSON_Y)
    assert format_pseudonym(r.y) in y and r.ref in y
    for name in ("summary", "note", "minute"):  # the case's own texts
        assert r.secrets[name] in y, name
    assert r.x not in y and format_pseudonym(r.x) not in y  # the other person of the case
    assert r.secrets["log"] not in y and r.secrets["other_summary"] not in y and r.other not in y
    assert "secretariat, BIF — viewed the case" in y  # who saw it, from the audit log: a role, not an id
    x = export(svc, PERSON_X)
    for name in ("summary", "note", "minute", "log", "other_summary"):
        assert r.secrets[name] in x, name
    assert r.ref in x and r.other in x and "Offer of mentor made" in x and format_pseudonym(r.y) not in x
    with unit_of_work(svc.engine) as session:
        entries = list(session.exec(select(AuditEntry).where(AuditEntry.action == "subject.export")))
    assert len(entries) == 2 and all(e.purpose_ct is not None and json.loads(e.detail)["cases"] for e in entries)


def test_subject_commands_are_for_admins_and_need_a_purpose(svc, clock):
    seed(svc)
    rich_case(svc, clock)
    reply = dispatch(svc, Invocation(user_id=SEC, text="subject export", platform="console"))
    assert not reply.ok
    opened = dispatch(svc, Invocation(user_id=ADMIN, text="subject export", platform="console"))
    assert opened.form is not None and opened.form.form_id == "subject.export"
    assert any(f.never_stored for f in opened.form.fields)
    result = submit(svc, "subject.export", {"identifier": PERSON_Y, "purpose": ""})
    assert "purpose" in result.errors
    refused = submit(svc, "subject.export", {"identifier": PERSON_Y, "purpose": "x"}, user=SEC)
    assert refused.reply is not None and not refused.reply.ok


def test_erase_asks_for_confirmation_then_forgets_the_person_everywhere(svc, clock):
    seed(svc)
    r = rich_case(svc, clock)
    with unit_of_work(svc.engine) as session:
        facts_before = (len(list(session.exec(select(ReportCase)))), len(list(session.exec(select(ReportSubject)))),
                        len(list(session.exec(select(ReportOffer)))))
    first = submit(svc, "subject.erase", {"identifier": PERSON_X, "purpose": "Anmodning om sletning"})
    assert "confirm" in first.errors and r.other in first.errors["confirm"] and r.ref in first.errors["confirm"]
    assert subjects(svc, r.other) == [r.x]  # nothing happened yet
    done = submit(svc, "subject.erase", {"identifier": PERSON_X, "purpose": "Anmodning om sletning",
                                         "confirm": "erase"})
    assert done.reply is not None and done.reply.ok, done
    # Case B was only about X: erased entirely. In case A, X no longer links to anybody; Y is untouched.
    with unit_of_work(svc.engine) as session:
        b = session.exec(select(Case).where(Case.ref == r.other)).one()
        left = list(session.exec(select(Subject.pseudonym)))
        logs = list(session.exec(select(MentorSession)))
        report = audit.verify(session)
        facts_after = (len(list(session.exec(select(ReportCase)))), len(list(session.exec(select(ReportSubject)))),
                       len(list(session.exec(select(ReportOffer)))))
    assert b.erased_at is not None and b.summary_ct is None
    assert r.x not in left and r.y in left and len(subjects(svc, r.ref)) == 2 and logs == []
    assert report.ok and facts_after == facts_before
    texts = "\n".join(decrypted_texts(svc))
    assert r.secrets["log"] not in texts and r.secrets["other_summary"] not in texts
    assert r.secrets["summary"] in texts  # case A's own text stays: it concerns Y too
    none = submit(svc, "subject.export", {"identifier": PERSON_X, "purpose": "Kontrol"})
    assert none.reply is not None and "no case" in none.reply.text
    ok(svc, f"case show {r.ref}")
