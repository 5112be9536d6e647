"""Late procedure steps in the agenda's review section: a flagged step due on Friday morning, the meeting on
Monday after the change to winter time, listed with the profile's title in the reader's language, who is
responsible (a role or an org, never a person) and how late — in the chat reply as Slack, Teams and the
console show it, and in the Markdown and PDF exports; done or skipped steps and unflagged ones stay off."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader

from bot.slack import render as slack_render
from bot.teams import render as teams_render
from bot.terminal import render as console_render
from commands.context import Services
from commands.meetings.agenda_build import CaseFacts, Frame, LateStep, build
from tests.commands.cmdkit import add_member, seed_admin
from tests.conftest import make_settings, make_svc
from tests.meetings.mtkit import local, ok


@pytest.fixture
def unit(db_url, clock):
    svc = make_svc(make_settings(db_url, unit_profile="denmark-generic"), clock)
    seed_admin(svc)
    for user, role, org in (("SEC", "secretariat", "SEK"), ("U_SSP", "member", "SSP"), ("U_SOC", "member", "SOC")):
        add_member(svc, user, role, org)
    yield svc
    svc.engine.dispose()


def _late_case(svc: Services) -> tuple[str, str]:
    """Received and qualified on Thursday 22 October 2026: the register checks (1 working day, flagged) are
    due Friday 23 October 08:00 summer time; an ad hoc meeting on Monday 26 October, winter time."""
    svc.clock.instant = local(2026, 10, 22, 10, 0)
    reply = ok(svc, 'concern new severity=high track=child age=15-17 source=school basis=rpl115 '
                    'summary="Udtaler støtte til voldelig ekstremisme"', "U_SOC")
    ref = "KE-" + reply.text.split("KE-")[1][:9]
    ok(svc, f"case qualify {ref}", "SEC")
    created = ok(svc, f'meeting adhoc when="2026-10-26 09:00" duration=60m topic="Opfølgning" cases={ref}', "SEC")
    meeting = "M-" + created.text.split("M-")[1][:8]
    return ref, meeting


def _section(text: str, heading: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"*{heading}"))
    rows = []
    for line in lines[start + 1:]:
        if not line.startswith("• "):
            break
        rows.append(line[2:])
    return rows


def test_a_step_due_friday_is_three_days_late_at_monday_s_meeting_across_the_dst_weekend(unit):
    ref, meeting = _late_case(unit)
    unit.clock.instant = local(2026, 10, 26, 8, 30)  # Monday, 07:30 UTC (winter time since Sunday)
    reply = ok(unit, f"agenda {meeting}", "SEC")
    rows = _section(reply.text, "4a. Late procedure steps")
    assert rows == [f"{ref} · step 1: Register checks by SSP, infohouse and social services · responsible: the "
                    f"secretariat · not assigned · 3 days late (due 23 Oct 2026)"]
    # only flagged steps: step 4 (referral, 3 days, due Sunday) is late too but not flagged for the agenda
    assert "step 4" not in reply.text and "U_SSP" not in reply.text and "U_SOC" not in reply.text
    # every platform shows it; the exports carry it
    line = rows[0]
    assert line in console_render(reply)
    assert line in json.dumps(slack_render.message(reply, "en"), ensure_ascii=False)
    assert line in json.dumps(teams_render.reply_card(reply, "en"), ensure_ascii=False)
    files = ok(unit, f"agenda {meeting} format=md", "SEC").attachments
    assert f"## 4a. Late procedure steps (1)\n\n- {line}" in files[0].data.decode()
    pdf = ok(unit, f"agenda {meeting} format=pdf", "SEC").attachments[0].data
    from io import BytesIO
    text = " ".join(p.extract_text() for p in PdfReader(BytesIO(pdf)).pages)
    assert "Late procedure steps" in text and "Register checks by SSP" in " ".join(text.split())


def test_in_danish_with_the_assignee_s_role_and_org_and_gone_once_done(db_url, clock):
    svc = make_svc(make_settings(db_url, unit_profile="denmark-generic", bot_language="da"), clock)
    try:
        seed_admin(svc)
        for user, role, org in (("SEC", "secretariat", "SEK"), ("U_SSP", "member", "SSP"),
                                ("U_SOC", "member", "SOC")):
            add_member(svc, user, role, org)
        ref, meeting = _late_case(svc)
        svc.clock.instant = local(2026, 10, 29, 11, 0)  # Thursday: step 2 (SSP, 5 working days) due 08:00 today
        rows = _section(ok(svc, f"agenda {meeting}", "SEC").text, "4a. Forsinkede trin")
        assert rows == [
            f"{ref} · trin 1: Registertjek i SSP, infohus og socialforvaltning · ansvarlig: sekretariatet · "
            "ikke tildelt · 6 dage forsinket (frist 23. okt. 2026)",
            f"{ref} · trin 2: Fælles hjemmebesøg med SSP og infohuset · ansvarlig: SSP · tildelt: medlem, SSP · "
            "3 timer forsinket (frist 29. okt. 2026 kl. 08.00)"]
        ok(svc, f"case step {ref} 1 done", "SEC")
        ok(svc, f'case step {ref} 2 skip reason="Familien er flyttet"', "U_SSP")
        assert "Forsinkede trin" not in ok(svc, f"agenda {meeting}", "SEC").text
    finally:
        svc.engine.dispose()


def test_no_late_steps_no_section(unit):
    _ref, meeting = _late_case(unit)
    unit.clock.instant = local(2026, 10, 23, 7, 59)  # a minute before the first due time
    assert "Late procedure steps" not in ok(unit, f"agenda {meeting}", "SEC").text


def test_a_case_no_rule_raises_comes_to_the_review_section_for_its_late_steps():
    now = datetime(2026, 10, 26, 7, 30, tzinfo=UTC)
    quiet = CaseFacts(1, "KE-2026-0001", "referred", "high", "child", "SOC", now - timedelta(days=10),
                      now - timedelta(days=9), now - timedelta(days=9), last_review_at=now - timedelta(days=2),
                      last_event_at=now - timedelta(days=20), open_work=True)
    frame = Frame(meeting_start=now + timedelta(hours=1), following_start=now + timedelta(days=14),
                  previous_start=now - timedelta(days=14), now=now, review_days=28, offer_pending_days=14)
    assert build([quiet], frame, []).items() == []
    step = LateStep(1, 3, "Beslutning", "Decision", "secretariat", None, None, now - timedelta(days=3))
    agenda = build([quiet], frame, [], late=[step])
    assert [(i.section, i.reason) for i in agenda.items()] == [(4, "steps_late")]
    assert agenda.late_steps == [(agenda.items()[0], [step])]
