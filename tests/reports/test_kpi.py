"""`report kpi` on the fixture year (tests/reports/yearkit.py): every target, exact, with its arithmetic."""

from __future__ import annotations

import pytest
from sqlmodel import col, select
from yearkit import ADMIN, EXPECTED, SECRETARY, Year

from commands.reply import Invocation
from commands.reports import kpi
from commands.router import dispatch
from storage.db import unit_of_work
from storage.models import AuditEntry

# Written before work procedures: its cases close without ticking checklist steps (or it counts reminders
# and agenda items that steps would add); procedures have their own tests (tests/profile/test_steps.py).
pytestmark = pytest.mark.procedures_off


@pytest.fixture
def year(svc, clock) -> Year:
    return Year(svc, clock).build()


def test_the_fixture_years_targets_match_the_hand_computed_figures(year: Year) -> None:
    from datetime import date

    with unit_of_work(year.svc.engine) as session:
        k = kpi.compute(session, date(2026, 1, 1), date(2026, 12, 31), year.clock.now(), year.svc.settings.tz)
    assert k.concerns == EXPECTED["concerns"]
    for name in kpi.KPI_NAMES:
        r = k.ratios[name]
        assert (r.num, r.den, r.pending) == EXPECTED[name], name
    assert round(k.ratios["acceptance"].pct, 1) == 66.7 and k.ratios["acceptance"].met  # 6/9 ≥ 60 %
    assert k.ratios["reoffer_3m"].met and not k.ratios["reoffer_6m"].met  # 3/3; 2/3 < 100 %
    assert k.ratios["education_12m"].met and k.ratios["not_at_risk_6m"].met  # 3/4 = 75 %; 4/5 = 80 %
    assert not k.ratios["visitation"].met  # 9/10: one missed by 5 hours
    assert (k.visitation_by_severity["high"].num, k.visitation_by_severity["high"].den) == (3, 4)  # C1–C3, C8
    assert k.open_now == 5  # C3, C7, C8, C9, C10 are never closed




LINE_START = {"reoffer_3m": "Declined offers re-offered within 3", "reoffer_6m": "Declined offers re-offered within 6",
              "education_12m": "Completed mentor courses: in education"}


def kpi_text(year: Year, text: str, user: str = SECRETARY) -> str:
    reply = dispatch(year.svc, Invocation(user_id=user, text=text, platform="console"))
    assert reply.ok, reply.text
    return "\n".join([reply.title or "", reply.text, *(f.value for f in reply.fields)])


def test_the_kpi_reply_shows_exact_figures_and_says_so(year: Year) -> None:
    text = kpi_text(year, "report kpi year=2026")
    assert "1 Jan 2026 – 31 Dec 2026" in text
    assert "Concerns received: 23" in text and "Cases open now: 5" in text
    assert "Mentor/parent-coach offers accepted: 6/9 = 66.7% (target ≥ 60%) — met, 1 pending" in text
    assert "re-offered within 3 months: 3/3 = 100.0% (target = 100%) — met" in text
    assert "re-offered within 6 months: 2/3 = 66.7% (target = 100%) — not met" in text
    assert "in education/employment at 12 months: 3/4 = 75.0% (target ≥ 70%) — met, 1 pending" in text
    assert "not at risk 6 months after: 4/5 = 80.0% (target ≥ 70%) — met" in text
    assert "Visited within 24/48/72 hours: 9/10 = 90.0% (target = 100%) — not met" in text
    assert "Exact figures, for the secretariat only" in text


def test_periods_are_local_calendar_days(year: Year) -> None:
    # P1 came at 23:30 on 31 Dec 2025 (local): 2025. C1 at 00:30 on 1 Jan 2026 (23:30 UTC on 31 Dec): 2026.
    assert "Concerns received: 1\n" in kpi_text(year, "report kpi year=2025")
    assert "Concerns received: 1\n" in kpi_text(year, "report kpi from=2026-01-01 to=2026-01-01")
    assert "Concerns received: 0\n" in kpi_text(year, "report kpi from=2025-12-30 to=2025-12-30")
    # Around the DST changes: C7 at 00:30 on 29 Mar, C8 at 23:30 CEST on 31 Mar; U10 at 00:30 CET on 1 Nov.
    assert "Concerns received: 3\n" in kpi_text(year, "report kpi from=2026-03-01 to=2026-03-31")
    assert "Concerns received: 2\n" in kpi_text(year, "report kpi from=2026-11-01 to=2026-11-30")
    assert "Concerns received: 2\n" in kpi_text(year, "report kpi from=2026-10-01 to=2026-10-31")


def test_a_target_with_no_cases_says_so_instead_of_zero_percent(year: Year) -> None:
    text = kpi_text(year, "report kpi year=2024")
    assert "Concerns received: 0" in text
    assert "Mentor/parent-coach offers accepted: no cases yet" in text
    assert "0%" not in text and "0.0%" not in text


def declined_on_10_march(svc, clock, *more: tuple[str, str]) -> Year:
    """C6 alone: received 2 Mar, referred, a mentor offer made 9 Mar and declined 10 Mar; then `more`."""
    y = Year(svc, clock).seed()
    for when, action in (("2026-03-02 10:00", "receive"), ("2026-03-02 20:00", "refer"),
                         ("2026-03-09 10:00", "case offer {ref} subject={p} kind=mentor"),
                         ("2026-03-10 10:00", "case respond {ref} subject={p} kind=mentor declined"), *more):
        y.at(when)
        y._act("C6", action)
    return y


def test_a_cohort_not_yet_judged_is_pending_not_a_miss(svc, clock) -> None:
    """A decline is pending until its 3 (6) months have run; then, without a re-offer, a miss. An ended mentor
    course is pending until its outcome check is answered."""
    y = declined_on_10_march(svc, clock, ("2026-03-16 10:00", "case offer {ref} subject={p} kind=parent_coach"),
                             ("2026-03-17 10:00", "case respond {ref} subject={p} kind=parent_coach accepted"),
                             ("2026-05-29 10:00", "mentor end {ref} subject={p} result=completed"))

    def ratio(name: str, now: str) -> str:
        y.at(now)
        text = kpi_text(y, "report kpi year=2026")
        return next(line for line in text.splitlines() if line.startswith(LINE_START[name]))

    # The parent coach was offered 6 days after the decline: re-offered within 3 months, and accepted within 6.
    assert "1/1 = 100.0%" in ratio("reoffer_3m", "2026-04-01 10:00")
    assert "1/1 = 100.0%" in ratio("reoffer_6m", "2026-04-01 10:00")
    # The parent-coach course is no mentor course: no outcome KPI. 12-month checks of mentor courses: none.
    assert ratio("education_12m", "2026-12-01 10:00").endswith("no cases yet")


def test_an_unanswered_outcome_check_is_pending_and_a_missing_reoffer_a_miss_only_when_due(svc, clock) -> None:
    y = declined_on_10_march(svc, clock)
    y.at("2026-06-09 10:00")  # 10 Mar + 3 months = 10 Jun: not yet run
    text = kpi_text(y, "report kpi year=2026")
    assert "re-offered within 3 months: no cases yet, 1 pending" in text
    y.at("2026-06-11 10:00")
    text = kpi_text(y, "report kpi year=2026")
    assert "re-offered within 3 months: 0/1 = 0.0% (target = 100%) — not met" in text
    assert "re-offered within 6 months: no cases yet, 1 pending" in text
    y._act("C6", "case offer {ref} subject={p} kind=mentor")
    y._act("C6", "case respond {ref} subject={p} kind=mentor accepted")
    y.at("2026-07-01 10:00")
    y._act("C6", "mentor end {ref} subject={p} result=completed")
    text = kpi_text(y, "report kpi year=2026")
    assert "re-offered within 6 months: 1/1 = 100.0%" in text  # a re-offer accepted within 6 months
    assert "in education/employment at 12 months: no cases yet, 1 pending" in text
    assert "not at risk 6 months after: no cases yet, 1 pending" in text


@pytest.mark.parametrize("text", ["report kpi year=abc", "report kpi year=1999", "report kpi from=2026-13-01",
                                  "report kpi from=2026-05-01 to=2026-01-01", "report kpi year=2026 from=2026-01-01",
                                  "report kpi colour=red", "report annual year=2026 format=docx"])
def test_bad_report_input_gets_a_usage_message_and_changes_nothing(year: Year, text: str) -> None:
    with unit_of_work(year.svc.engine) as session:
        before = len(session.exec(select(AuditEntry)).all())
    reply = dispatch(year.svc, Invocation(user_id=SECRETARY, text=text, platform="console"))
    assert not reply.ok and "report" in reply.text and "Traceback" not in reply.text
    with unit_of_work(year.svc.engine) as session:
        assert len(session.exec(select(AuditEntry)).all()) == before


def test_report_annual_typed_bare_opens_its_form(year: Year) -> None:
    reply = dispatch(year.svc, Invocation(user_id=SECRETARY, text="report annual", platform="console"))
    assert reply.form is not None and reply.form.form_id == "report.annual"


def test_members_may_not_run_reports(year: Year) -> None:
    year.ok("unit add U_SSP role=member org=SSP")
    reply = dispatch(year.svc, Invocation(user_id="U_SSP", text="report kpi", platform="console"))
    assert not reply.ok


def test_every_report_run_is_audited_with_period_and_format(year: Year) -> None:
    kpi_text(year, "report kpi from=2026-02-01 to=2026-02-28")
    year.ok("report annual year=2026 format=csv", user=ADMIN)
    with unit_of_work(year.svc.engine) as session:
        runs = [(a.actor, a.action, a.detail) for a in session.exec(select(AuditEntry).where(
            col(AuditEntry.action).like("report.%")).order_by(col(AuditEntry.id)))]
    assert runs == [(SECRETARY, "report.kpi", '{"format": "reply", "from": "2026-02-01", "to": "2026-02-28"}'),
                    (ADMIN, "report.annual", '{"format": "csv", "from": "2026-01-01", "to": "2026-12-31"}')]
