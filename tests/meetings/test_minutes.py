"""Minutes: decisions per case, `meeting close` posts references and counts only, turns dated decisions into
follow-ups, and gives the secretariat the full minutes privately — Markdown and PDF with the footer."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlmodel import select

from commands import documents
from commands.context import Services
from scheduler.jobs.followups import sweep
from storage.db import unit_of_work
from storage.models import FollowUp, MinuteEntry
from tests.meetings.mtkit import SERIES, concern, local, meeting, ok, queued, rendered, say, seed

# Written before work procedures: its cases close without ticking checklist steps (or it counts reminders
# and agenda items that steps would add); procedures have their own tests (tests/profile/test_steps.py).
pytestmark = pytest.mark.procedures_off

FOOTER_EN = "Administration of Justice Act §115(2)"


def pdf_text(data: bytes) -> str:
    """The text drawn on the pages, read back with pypdf (the PDFs embed a Unicode font, so the page streams hold
    glyph numbers, not the text)."""
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages)


def prepared(svc: Services) -> tuple[str, str]:
    seed(svc)
    ok(svc, SERIES.format(policy="skip"))
    a, b = concern(svc), concern(svc, severity="normal", track="adult_psych", age="25+")
    ok(svc, f"case qualify {a} level=preventive")
    ok(svc, f"case refer {a} to=SOF owner=SSP1")
    svc.clock.instant = local(2026, 11, 26, 9, 15)
    return a, b


def test_close_posts_references_and_counts_and_makes_follow_ups_of_dated_decisions(svc: Services):
    a, b = prepared(svc)
    reply = ok(svc, f'minutes {a} "Mentor tilbydes; skolen orienteres" due=2026-12-15')
    assert "M-2026-001" in reply.text and "follow-up on 15 Dec 2026, 08:00" in reply.text
    ok(svc, f'minutes {a} "Status igen om en måned"')
    ok(svc, f'minutes {b} "Psykiatrien inviteres til næste møde" due="2026-12-01 09:00"')
    assert not say(svc, f'minutes {b} "x" due=2026-11-01').ok  # due in the past
    mark = len(queued(svc))
    svc.clock.instant = local(2026, 11, 26, 10, 45)
    closed = ok(svc, "meeting close M-2026-001")
    assert closed.text.startswith("M-2026-001 is closed: 3 decisions, 2 follow-ups created.")
    assert "Mentor tilbydes; skolen orienteres — follow-up 15 Dec 2026, 08:00 (F-" in closed.text
    assert [a.filename for a in closed.attachments] == ["minutes-M-2026-001.md", "minutes-M-2026-001.pdf"]
    posts = [(k, t, r) for k, t, r in queued(svc)[mark:]]
    assert [(k, t) for k, t, _ in posts] == [("channel", "unit")]
    channel = rendered(posts[0][2])
    assert channel.splitlines()[0] == "Minutes M-2026-001"
    assert f"{a} · 2 decisions · follow-up: 15 Dec 2026, 08:00" in channel
    assert f"{b} · 1 decision · follow-up: 1 Dec 2026, 09:00" in channel
    assert "Mentor" not in channel and "Psykiatrien" not in channel and not posts[0][2].attachments
    with unit_of_work(svc.engine) as session:
        followups = list(session.exec(select(FollowUp).where(FollowUp.kind == "custom").order_by(FollowUp.due_at)))
        entries = list(session.exec(select(MinuteEntry)))
    assert [f.due_at for f in followups] == [local(2026, 12, 1, 9, 0), local(2026, 12, 15, 8, 0)]
    assert {e.followup_id for e in entries if e.due_at} == {f.id for f in followups}
    assert all(b"Mentor" not in e.text_ct for e in entries)  # encrypted at rest
    assert meeting(svc, "M-2026-001").state == "closed"
    assert not say(svc, "meeting close M-2026-001").ok
    assert not say(svc, f'minutes {a} "for sent" meeting=M-2026-001').ok


def test_the_follow_up_reaches_the_case_owner_with_the_decision_privately(svc: Services):
    a, _ = prepared(svc)
    ok(svc, f'minutes {a} "Mentor tilbydes" due="2026-12-15 09:00"')
    ok(svc, "meeting close M-2026-001")
    mark = len(queued(svc))
    sweep(svc, local(2026, 12, 15, 9, 0))
    dms = [(t, r.text) for k, t, r in queued(svc)[mark:] if k == "user"]
    assert dms == [("SSP1", f"Follow-up on {a} (15 Dec 2026): Mentor tilbydes")]


def test_minutes_need_a_meeting_in_progress_or_a_named_one(svc: Services):
    a, _ = prepared(svc)
    svc.clock.instant = local(2026, 11, 24, 10, 0)
    reply = say(svc, f'minutes {a} "x"')
    assert not reply.ok and "No meeting is in progress" in reply.text
    assert 'Usage: `minutes KE-… "decision" [due=…]' in reply.text
    assert ok(svc, f'minutes {a} "Forberedt" meeting=M-2026-001').ok
    assert not say(svc, f'minutes {a} "x"', user="BUF1").ok  # ad hoc participants do not take minutes


def test_decisions_are_pii_guarded_and_nothing_is_stored_when_refused(svc: Services):
    a, _ = prepared(svc)
    reply = say(svc, f'minutes {a} "Ring til far på 23 45 67 89"')
    assert not reply.ok and "phone number" in reply.text
    with unit_of_work(svc.engine) as session:
        assert list(session.exec(select(MinuteEntry))) == []


def test_pdf_export_opens_and_carries_the_purpose_limitation_footer(svc: Services):
    a, _ = prepared(svc)
    ok(svc, f'minutes {a} "Mentor tilbydes"')
    pdf = ok(svc, "meeting close M-2026-001").attachments[1].data
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    text = pdf_text(pdf)
    assert FOOTER_EN in text and "Mentor tilbydes" in text
    md = ok(svc, "minutes show M-2026-001").attachments[0].data.decode()
    assert md.startswith("# Minutes of the meeting on Thursday 26 November 2026 at 09:00\n")
    assert "M-2026-001" in md and "## Decisions (1)" in md and f"| {a} | Mentor tilbydes | — | — |" in md
    assert FOOTER_EN in md.splitlines()[-1]


def test_the_pdf_shows_the_danish_footer_on_every_page():
    doc = documents.Document("Dagsorden M-2026-001", "Oplysningerne … (retsplejelovens § 115, stk. 2)",
                             ["Mødet"], [("Afsnit", [f"Punkt {i} — æøå" for i in range(200)])])
    reader = PdfReader(io.BytesIO(documents.attachments(doc, "x", formats=("pdf",))[0].data))
    texts = [" ".join(page.extract_text().split()) for page in reader.pages]
    assert len(texts) >= 3 and all("retsplejelovens § 115, stk. 2" in text for text in texts)
    assert "Punkt 199 — æøå" in texts[-1]  # the typographic dash and the Danish letters as such


def test_decisions_and_topics_survive_a_key_rotation(svc: Services):
    a, _ = prepared(svc)
    ok(svc, f'minutes {a} "Mentor tilbydes"')
    ok(svc, f'meeting adhoc when="i morgen 14:00" topic="Akut vurdering" cases={a}')
    assert "re-encrypted" in ok(svc, "unit keys rotate", user="ADMIN").text
    assert "Mentor tilbydes" in ok(svc, "minutes show M-2026-001").text
    assert ok(svc, "agenda M-2026-004").text.startswith("Topic (private only): Akut vurdering")
