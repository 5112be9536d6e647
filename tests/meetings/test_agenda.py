"""The agenda: seven sections in order from cases in every state, proposals, edits that survive rebuilds,
the 48 h draft and 24 h publication through the outbox, and ad hoc participants' need-to-know."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from commands.context import Services
from scheduler.jobs.meetings import meeting_tick
from storage.db import unit_of_work
from storage.models import AgendaEdit, Case, Subject
from tests.meetings.mtkit import SERIES, concern, local, meeting, ok, pseudonym_of, queued, rendered, say, seed

# Written before work procedures: its cases close without ticking checklist steps (or it counts reminders
# and agenda items that steps would add); procedures have their own tests (tests/profile/test_steps.py).
pytestmark = pytest.mark.procedures_off


def at(svc: Services, *when: int) -> None:
    svc.clock.instant = local(*when)


def referred(svc: Services, severity: str = "high", track: str = "child", age: str = "15-17") -> str:
    ref = concern(svc, severity=severity, track=track, age=age)
    ok(svc, f"case qualify {ref} level=preventive")
    ok(svc, f"case refer {ref} to=SOF")
    return ref


@pytest.fixture
def unit(svc: Services) -> dict[str, str]:
    """A unit in mid-season: cases in every state, one meeting held and closed, the next one two days off."""
    seed(svc)
    refs: dict[str, str] = {}
    at(svc, 2026, 9, 1, 10, 0)
    refs["J"] = referred(svc, severity="normal")
    at(svc, 2026, 9, 10, 10, 0)
    ok(svc, f"case offer {refs['J']} subject={pseudonym_of(svc, refs['J'])} kind=mentor")
    ok(svc, f"case respond {refs['J']} subject={pseudonym_of(svc, refs['J'])} kind=mentor declined")
    at(svc, 2026, 10, 5, 10, 0)
    refs["G"] = referred(svc, severity="high", track="adult_psych", age="25+")
    refs["I"] = referred(svc, severity="normal")
    ok(svc, f"case offer {refs['I']} subject={pseudonym_of(svc, refs['I'])} kind=mentor")
    refs["K"] = referred(svc, severity="normal")
    refs["M"] = referred(svc, severity="normal", track="crime")
    for key in ("K", "M"):
        subject = pseudonym_of(svc, refs[key])
        ok(svc, f"case offer {refs[key]} subject={subject} kind=mentor")
        ok(svc, f"case respond {refs[key]} subject={subject} kind=mentor accepted")
    ok(svc, f"mentor end {refs['K']} subject={pseudonym_of(svc, refs['K'])} result=completed")
    at(svc, 2026, 11, 23, 10, 0)
    ok(svc, SERIES.format(policy="skip"))  # M-2026-001 Thu 26 Nov, M-2026-002 Thu 10 Dec, M-2026-003 Thu 24 Dec
    at(svc, 2026, 11, 24, 10, 0)
    refs["H"] = referred(svc, severity="high")
    at(svc, 2026, 11, 26, 9, 30)
    ok(svc, f'minutes {refs["M"]} "Mentorforløbet fortsætter uændret"')
    at(svc, 2026, 11, 26, 11, 0)
    ok(svc, "meeting close M-2026-001")
    at(svc, 2026, 12, 6, 10, 0)
    refs["D"] = concern(svc, severity="critical", track="adult")
    at(svc, 2026, 12, 8, 8, 0)
    refs["B"] = concern(svc, severity="normal", track="adult", age="18-24")
    at(svc, 2026, 12, 8, 9, 0)
    refs["C"] = concern(svc, severity="high")
    at(svc, 2026, 12, 8, 9, 30)
    refs["A"] = concern(svc, severity="high")
    refs["E"] = concern(svc, severity="normal")
    ok(svc, f"case qualify {refs['E']}")
    refs["F"] = concern(svc, severity="high", track="adult", age="25+")
    for org in ("SSP", "VINK", "POLICE", "KRIM", "SOF", "EKP"):
        ok(svc, f"case checked {refs['F']} org={org} found=no")
    refs["L"] = concern(svc, severity="high")
    ok(svc, f"case close {refs['L']} reason=unfounded")
    return refs


def section_refs(text: str) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    current = 0
    for line in text.splitlines():
        if line.startswith("*") and line[1:2].isdigit():
            current = int(line[1])
            out[current] = []
        elif line.startswith("*"):
            current = 0  # a list after the sections (late steps, disclosures, participants)
        elif line.startswith("• KE-") and current:
            out[current].append(line[2:14])
    return out


def test_sections_in_order_from_cases_in_every_state(svc: Services, unit: dict[str, str]):
    reply = ok(svc, "agenda M-2026-002")
    r = unit
    assert section_refs(reply.text) == {
        1: [], 2: [r["C"], r["A"], r["B"]], 3: [r["D"], r["E"]], 4: [r["G"], r["M"]], 5: [r["J"], r["I"]],
        6: [r["F"], r["K"]], 7: []}
    headings = [line for line in reply.text.splitlines() if line.startswith("*")]
    assert [h[1] for h in headings[:7]] == list("1234567")
    assert "• Minutes of M-2026-001 (26 Nov 2026, 1 decision)" in reply.text
    line = next(x for x in reply.text.splitlines() if x.startswith(f"• {r['D']}"))
    pseudonym = pseudonym_of(svc, r["D"])
    assert line == (f"• {r['D']} · {pseudonym} · adult · 15-17 · critical · new · — · 1 d · "
                    "visitation deadline 7 Dec 2026, 10:00 (overdue by 23 hours) · deadline passed")
    g = next(x for x in reply.text.splitlines() if x.startswith(f"• {r['G']}"))
    assert " · adult with psychiatric problems · 25+ · high · referred · SOF · 64 d · " in g
    assert g.endswith("no review for 28 days")
    assert r["H"] not in reply.text and r["L"] not in reply.text  # nothing to discuss; closed


def test_proposes_buf_for_a_child_case_and_psych_for_an_adult_psych_case(svc: Services, unit: dict[str, str]):
    text = ok(svc, "agenda M-2026-002").text
    proposals = text[text.index("*Proposed ad hoc participants*"):]
    assert f"BUF — a child case is on the agenda: {unit['C']}, {unit['A']}, {unit['E']}" in proposals
    assert f"PSYCH — an adult psychiatry case is on the agenda: {unit['G']}" in proposals


def test_the_ordering_is_deterministic(svc: Services, unit: dict[str, str]):
    first = ok(svc, "agenda M-2026-002").text
    assert all(ok(svc, "agenda M-2026-002").text == first for _ in range(3))


def test_secretariat_edits_survive_a_rebuild(svc: Services, unit: dict[str, str]):
    r = unit
    ok(svc, f"agenda add M-2026-002 {r['H']}")
    ok(svc, f"agenda remove M-2026-002 {r['B']}")
    ok(svc, f"agenda move M-2026-002 {r['A']} position=1")
    ok(svc, f"agenda add M-2026-002 {r['K']} section=4")
    new = concern(svc, severity="critical")  # the open cases change; the edits stay
    sections = section_refs(ok(svc, "agenda M-2026-002").text)
    assert sections[2] == [r["A"], new, r["C"]]
    assert sections[4] == [r["G"], r["K"], r["M"]]
    assert sections[7] == [r["H"]] and r["B"] not in sum(sections.values(), [])
    ok(svc, f"agenda add M-2026-002 {r['B']}")
    assert r["B"] in section_refs(ok(svc, "agenda M-2026-002").text)[2]
    with unit_of_work(svc.engine) as session:
        assert len(list(session.exec(select(AgendaEdit)))) == 4
    assert not say(svc, f"agenda add M-2026-002 {r['H']}", user="SSP1").ok  # only the secretariat edits


def test_draft_48h_before_to_the_secretariat_then_published_24h_before(svc: Services, unit: dict[str, str]):
    mark = len(queued(svc))
    assert meeting_tick(svc, local(2026, 12, 8, 8, 59)).drafts == 0
    result = meeting_tick(svc, local(2026, 12, 8, 9, 0))
    assert (result.drafts, result.published) == (1, 0)
    assert meeting_tick(svc, local(2026, 12, 8, 9, 1)).drafts == 0  # once
    sent = queued(svc)[mark:]
    assert [(k, t) for k, t, _ in sent] == [("channel", "secretariat")]
    draft = sent[0][2]
    assert draft.title == "Agenda M-2026-002 · 10 Dec 2026, 09:00" and "Draft agenda for M-2026-002" in draft.text
    assert [a.filename for a in draft.attachments] == ["agenda-M-2026-002.md", "agenda-M-2026-002.pdf"]
    assert [b.command for b in draft.buttons] == ["agenda publish M-2026-002", "agenda hold M-2026-002"]
    assert meeting_tick(svc, local(2026, 12, 9, 8, 59)).published == 0
    assert meeting_tick(svc, local(2026, 12, 9, 9, 0)).published == 1
    assert meeting_tick(svc, local(2026, 12, 9, 9, 5)).published == 0
    published = queued(svc)[mark + 1:]
    assert [(k, t) for k, t, _ in published] == [("channel", "unit")]
    assert published[0][2].title == draft.title and meeting(svc, "M-2026-002").published_at is not None


def test_a_held_agenda_is_not_published_until_the_secretariat_does(svc: Services, unit: dict[str, str]):
    meeting_tick(svc, local(2026, 12, 8, 9, 0))
    ok(svc, "agenda hold M-2026-002")
    mark = len(queued(svc))
    assert meeting_tick(svc, local(2026, 12, 9, 9, 0)).published == 0
    assert queued(svc)[mark:] == []
    svc.clock.instant = local(2026, 12, 9, 12, 0)
    reply = ok(svc, "agenda publish M-2026-002")
    assert "published in the unit channel (11 items)" in reply.text
    assert [(k, t) for k, t, _ in queued(svc)[mark:]] == [("channel", "unit")]
    assert not say(svc, "agenda hold M-2026-002").ok  # already out


def test_no_free_text_reaches_a_channel(svc: Services, unit: dict[str, str]):
    meeting_tick(svc, local(2026, 12, 8, 9, 0))
    meeting_tick(svc, local(2026, 12, 9, 9, 0))
    svc.clock.instant = local(2026, 12, 10, 9, 30)
    ok(svc, f'minutes {unit["A"]} "Skolen inddrages og familien kontaktes" due=2026-12-20')
    ok(svc, 'meeting adhoc when="i morgen 14:00" topic="Hemmeligt emne" cases=' + unit["D"])
    ok(svc, "meeting close M-2026-002")
    channel = [(r, rendered(r)) for kind, _, r in queued(svc) if kind == "channel"]
    assert channel
    for reply, text in channel:
        for secret in ("Udtaler", "Skolen inddrages", "Mentorforløbet", "Hemmeligt"):
            assert secret not in text
        for attachment in reply.attachments:
            for secret in (b"Udtaler", b"Skolen", b"Mentorforl", b"Hemmeligt"):
                assert secret not in attachment.data


def test_an_invited_ad_hoc_participant_sees_the_agenda_cases_until_the_meeting_closes(svc: Services,
                                                                                   unit: dict[str, str]):
    assert not say(svc, f"case show {unit['A']}", user="BUF1").ok
    assert not say(svc, "agenda M-2026-002", user="BUF1").ok
    ok(svc, "meeting invite M-2026-002 <@BUF1>")
    dm = [r for kind, target, r in queued(svc) if target == "BUF1"][-1]
    assert dm.attachments[0].filename == "M-2026-002.ics"
    assert ok(svc, f"case show {unit['A']}", user="BUF1").title == unit["A"]
    assert not say(svc, f"case show {unit['H']}", user="BUF1").ok  # not on that agenda
    # Issue 26: an ad hoc participant sees only the agenda as it was sent — none before it is published.
    assert "not been sent yet" in say(svc, "agenda next", user="BUF1").text
    svc.clock.instant = local(2026, 12, 9, 10, 0)
    ok(svc, "agenda publish M-2026-002")
    sent = ok(svc, "agenda next", user="BUF1")
    assert sent.title.startswith("Agenda M-2026-002") and unit["A"] in sent.text
    svc.clock.instant = local(2026, 12, 10, 11, 0)
    ok(svc, "meeting close M-2026-002")
    assert not say(svc, f"case show {unit['A']}", user="BUF1").ok


def test_an_ad_hoc_participant_sees_no_agenda_after_the_meeting_ends(svc: Services, unit: dict[str, str]):
    """Issue 26: after close or cancel, `agenda M-…` showed the topic and every case line rebuilt from today's
    data (a person added later appeared with their pseudonym)."""
    ok(svc, "meeting invite M-2026-002 <@BUF1>")
    ok(svc, "meeting invite M-2026-003 <@BUF1>")
    svc.clock.instant = local(2026, 12, 9, 10, 0)
    ok(svc, "agenda publish M-2026-002")
    assert ok(svc, "agenda M-2026-002", user="BUF1").ok
    svc.clock.instant = local(2026, 12, 10, 11, 0)
    ok(svc, "meeting close M-2026-002")
    ok(svc, f"case subject add {unit['A']} age=0-14")
    with unit_of_work(svc.engine) as session:
        case_id = session.exec(select(Case.id).where(Case.ref == unit["A"])).one()
        later = session.exec(select(Subject.pseudonym).where(Subject.case_id == case_id)
                             .order_by(col(Subject.id).desc())).first()
    for ref in ("M-2026-002", "M-2026-003"):
        if ref == "M-2026-003":
            ok(svc, "meeting cancel M-2026-003")
        reply = say(svc, f"agenda {ref}", user="BUF1")
        assert not reply.ok and reply.outcome == "refused"
        assert unit["A"] not in reply.text and later[:4] not in reply.text and not reply.attachments


def test_agenda_exports_on_request(svc: Services, unit: dict[str, str]):
    reply = ok(svc, "agenda M-2026-002 format=pdf")
    assert [a.filename for a in reply.attachments] == ["agenda-M-2026-002.pdf"]
    assert reply.attachments[0].data.startswith(b"%PDF")
    md = ok(svc, "agenda next format=md").attachments[0].data.decode()
    assert md.startswith("# Agenda for the meeting on Thursday 10 December 2026 at 09:00\n")
    assert "M-2026-002" in md and "## 2. New concerns to qualify (3)" in md
    assert "| Case | Pseudonyms | Track | Age | Severity | State | Authority | Days open | Next deadline |" in md
    assert "Administration of Justice Act §115(2)" in md
