"""Three years of a unit in frozen time, with the retention job run every night: each closed case is erased
on its day and not before, a held case survives until released, and every report of a past year says
exactly what the same unit without erasure says (the CSV byte for byte, except the line saying when it was
made). tests/reports/yearkit.py is the unit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from commands.context import Services
from commands.reply import Invocation
from commands.reports import kpi
from commands.retention import handlers as retention
from commands.router import dispatch
from scheduler.jobs.retention import erase_due_and_notify
from storage import audit
from storage.clock import FixedClock
from storage.db import unit_of_work
from storage.models import AuditEntry, Case
from tests.commands.cmdkit import dump_values
from tests.conftest import PROCEDURES_OFF, make_settings, make_svc
from tests.reports.yearkit import ADMIN, CASES, EXPECTED, REFERRALS, Year, local
from tests.retention.retkit import sqlite_bytes

# Written before work procedures: its cases close without ticking checklist steps (or it counts reminders
# and agenda items that steps would add); procedures have their own tests (tests/profile/test_steps.py).
pytestmark = pytest.mark.procedures_off

CPH = ZoneInfo("Europe/Copenhagen")
YEARS = (2025, 2026)


def annual_csv(svc: Services, year: int) -> list[str]:
    reply = dispatch(svc, Invocation(user_id=ADMIN, text=f"report annual year={year} format=csv", platform="console"))
    assert reply.ok, reply.text
    [file] = reply.attachments
    return [line for line in file.data.decode("utf-8").splitlines() if "Made " not in line]


class NightlyYear(Year):
    """The fixture year with the worker's retention job run at 00:30 every night, and the CSVs of past years
    compared just before and just after every night that erased something."""

    def __init__(self, svc: Services, clock: FixedClock) -> None:
        super().__init__(svc, clock)
        self.last: date = date(2025, 12, 1)
        self.erased_on: dict[str, date] = {}
        self.nights_with_erasure = 0

    def _act(self, name: str, action: str) -> None:
        self.nights_until(self.clock.instant)
        super()._act(name, action)

    def nights_until(self, instant: datetime) -> None:
        keep = instant
        day = self.last + timedelta(days=1)
        while datetime.combine(day, datetime.min.time(), tzinfo=CPH).replace(minute=30) <= instant:
            self.clock.instant = datetime.combine(day, datetime.min.time(), tzinfo=CPH).replace(minute=30) \
                .astimezone(UTC)
            self.night(day)
            self.last = day
            day += timedelta(days=1)
        self.clock.instant = keep

    def night(self, day: date) -> None:
        with unit_of_work(self.svc.engine) as session:
            due = [c.ref for c in session.exec(select(Case)) if retention.erase.is_due(self.svc, c, self.clock.now())]
        before = {y: annual_csv(self.svc, y) for y in YEARS} if due else {}
        erased, _notice = erase_due_and_notify(self.svc, self.clock.now())
        assert sorted(erased) == sorted(due)
        for ref in erased:
            self.erased_on[ref] = day
        if erased:
            self.nights_with_erasure += 1
            for y in YEARS:
                assert annual_csv(self.svc, y) == before[y], (day, y)


def expected_erasure(received: str, unfounded: bool) -> date:
    # unfounded: closed 3 days after receipt at 10:00 (yearkit), erased 180 days after that day
    closed = local(received).replace(hour=10, minute=0) + timedelta(days=3)
    return closed.date() + timedelta(days=180 if unfounded else 730)


COMPLETED = {"C5": date(2026, 3, 2), "C4": date(2026, 4, 6), "C6": date(2026, 6, 8), "C1": date(2026, 7, 6),
             "C2": date(2026, 8, 10)}


def test_three_years_erase_each_case_on_its_day_with_every_report_unchanged(svc, clock, db_url, second_db_url):
    year = NightlyYear(svc, clock).build()
    control_svc = make_svc(make_settings(second_db_url, unit_profile=PROCEDURES_OFF), FixedClock(clock.now()))
    control = Year(control_svc, control_svc.clock).build()  # type: ignore[arg-type]
    # 15 Aug 2027: the unfounded cases are gone; the report of 2026 still says what it said.
    year.nights_until(clock.now())
    for y in YEARS:
        assert annual_csv(svc, y) == annual_csv(control_svc, y), y
    with unit_of_work(svc.engine) as session:
        k = kpi.compute(session, date(2026, 1, 1), date(2026, 12, 31), clock.now(), svc.settings.tz)
    assert k.concerns == EXPECTED["concerns"] and k.open_now == 5
    for name in kpi.KPI_NAMES:
        assert (k.ratios[name].num, k.ratios[name].den, k.ratios[name].pending) == EXPECTED[name], name
    unfounded = [name for name, *_ in CASES if name not in REFERRALS]
    for name in unfounded:
        received = next(c[1] for c in CASES if c[0] == name)
        assert year.erased_on[year.refs[name]] == expected_erasure(received, True), name
    assert not any(year.refs[n] in year.erased_on for n in COMPLETED)

    # A hold on C2 from 1 Aug 2028 (due 9 Aug 2028) until 15 Jan 2029.
    year.nights_until(datetime(2028, 8, 1, 9, 0, tzinfo=UTC))
    c2 = year.refs["C2"]
    year.ok(f'case hold {c2} reason="Klage til Ombudsmanden verserer"')
    year.nights_until(datetime(2029, 1, 15, 9, 0, tzinfo=UTC))
    assert c2 not in year.erased_on
    year.ok(f"case release {c2}")
    year.nights_until(datetime(2029, 12, 31, 12, 0, tzinfo=UTC))
    assert year.erased_on[c2] == date(2029, 1, 16)
    for name, closed in COMPLETED.items():
        if name != "C2":
            assert year.erased_on[year.refs[name]] == closed + timedelta(days=730), name
    never = [n for n, *_ in CASES if n in REFERRALS and n not in COMPLETED]  # still open: never erased
    assert never and not any(year.refs[n] in year.erased_on for n in never)
    assert len(year.erased_on) == len(unfounded) + len(COMPLETED)

    # The end: every past report as the unit without erasure says it, the chain verifies, no pseudonym is left.
    control_svc.clock.instant = clock.now()  # type: ignore[attr-defined]
    for y in YEARS:
        assert annual_csv(svc, y) == annual_csv(control_svc, y), y
    with unit_of_work(svc.engine) as session:
        report = audit.verify(session)
        erasures = list(session.exec(select(AuditEntry.case_ref).where(AuditEntry.action == "case.erase")))
    assert report.ok and report.redacted > 0
    assert sorted(erasures) == sorted(year.erased_on)  # each case erased once
    values = "\n".join(str(v) for _t, _c, v in dump_values(svc))
    raw = sqlite_bytes(db_url) if db_url.startswith("sqlite") else b""
    for name, pseudonym in year.pseudonym.items():
        assert (pseudonym in values) == (year.refs[name] not in year.erased_on), name
        if year.refs[name] in year.erased_on:
            assert pseudonym.encode() not in raw, name
    control_svc.engine.dispose()
    _ = control
