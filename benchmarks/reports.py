"""Reports benchmark: `report kpi` and `report annual format=pdf` over 1 000, 10 000 and 100 000 cases, on SQLite
and PostgreSQL.

    python benchmarks/reports.py [--sizes 1000,10000,100000] [--pg postgresql://postgres@127.0.0.1:5432/test]

The reports read only the anonymous fact store, so the store is seeded directly: cases received over two years
(2025 and 2026, half each), one or two persons each, a third with a 1-1 course offer (two thirds accepted),
a fifth with a mentor engagement that ended, with outcome answers. Measured through the command router (what a
user runs: authorisation and the audit entry included), median of 5 after a warm-up, with the statements sent.
Baseline in the same run: a bare SELECT of the facts the period needs (the year's cases, offers and
engagements). Goals (issue 10): `report kpi` within 3× the baseline at 10 000 cases; (issue 24) the PDF with
charts ≤ 3 s at 100 000 cases. The PDF's CPU time in this process is printed too: on SQLite it is the whole
work, and it does not grow when other processes share the machine.
"""

from __future__ import annotations

import os
import secrets
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, insert, select, text  # noqa: E402

from benchmarks.common import each_database  # noqa: E402
from commands.context import Services  # noqa: E402
from commands.reply import Invocation  # noqa: E402
from commands.router import dispatch  # noqa: E402
from storage.clock import FixedClock  # noqa: E402
from storage.crypto import Keys  # noqa: E402
from storage.db import make_engine, migrate, unit_of_work  # noqa: E402
from storage.fact_tables import ReportCase, ReportEngagement, ReportOffer, ReportSubject  # noqa: E402
from storage.models import Member  # noqa: E402
from storage.settings import Settings  # noqa: E402

NOW = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
TRACKS = ("child", "adult", "adult_psych", "crime")
DISTRICTS = ("Indre By", "Østerbro", "Nørrebro", "Vesterbro/Kongens Enghave", "Valby", "Vanløse", "Brønshøj-Husum",
             "Bispebjerg", "Amager Øst", "Amager Vest")
SOURCES = ("school", "social", "police", "family", "hotline", "national_hotline")


def seed(url: str, count: int) -> None:
    migrate(url)
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        session.add(Member(user_id="SEC", platform="console", role="secretariat", org="BIF", created_at=NOW))
    for start in range(0, count, 20_000):
        with engine.begin() as conn:
            _batch(conn, start, min(count, start + 20_000))
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()


def _batch(conn, lo: int, hi: int) -> None:  # noqa: ANN001
    cases, subjects, offers, engagements = [], [], [], []
    for i in range(lo, hi):
        key = secrets.token_hex(16)
        received = datetime(2025, 1, 1, 9, tzinfo=UTC) + timedelta(minutes=(i * 7919) % (730 * 24 * 60))
        referred = received + timedelta(hours=12 + i % 50)
        closed = received + timedelta(days=20 + i % 300) if i % 3 else None
        cases.append({"fact_key": key, "received_on": received.date(),
                      "severity": ("critical", "high", "normal")[i % 3],
                      "track": TRACKS[i % 4], "source": SOURCES[i % 6], "district": DISTRICTS[i % 10],
                      "basis": "rpl115", "level": ("preventive", "pre_emptive", "intervening")[i % 3],
                      "indicators": "isolation,online_propaganda" if i % 2 else "school_absence",
                      "deadline_at": received + timedelta(hours=48), "referred_at": referred,
                      "deadline_met": referred <= received + timedelta(hours=48),
                      "hours_late": (referred - received).total_seconds() / 3600 - 48, "referral_org": "SOF",
                      "closed_on": closed.date() if closed else None,
                      "close_reason": ("completed", "unfounded", "normal_system")[i % 3] if closed else None,
                      "days_open": (closed - received).days if closed else None})
        for n in range(1 + i % 2):
            subjects.append({"fact_key": key, "n": n + 1, "age_band": ("0-14", "15-17", "18-24", "25+")[i % 4]})
        if i % 3 == 0:
            offered = received + timedelta(days=10)
            response = ("accepted", "accepted", "declined")[i % 9 // 3]
            offers.append({"fact_key": key, "subject_n": 1, "kind": ("mentor", "parent_coach")[i % 2],
                           "offered_at": offered, "offered_on": offered.date(), "response": response,
                           "responded_at": offered + timedelta(days=3),
                           "responded_on": (offered + timedelta(days=3)).date()})
        if i % 5 == 0:
            ended = received + timedelta(days=120)
            engagements.append({"fact_key": key, "subject_n": 1, "kind": "mentor", "started_on": received.date(),
                                "ended_at": ended, "ended_on": ended.date(), "not_at_risk_6m": i % 10 != 0,
                                "in_education_12m": None if i % 7 == 0 else i % 4 != 0})
    for table, rows in ((ReportCase, cases), (ReportSubject, subjects), (ReportOffer, offers),
                        (ReportEngagement, engagements)):
        if rows:
            conn.execute(insert(table), rows)


def measure(label: str, url: str, count: int) -> tuple[str, int, float, float, int, float, int, float]:
    seed(url, count)
    settings = Settings(database_url=url, pseudonym_key="cHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHA=",
                        data_key="ZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGQ=", bot_language="da")
    svc = Services(settings=settings, engine=make_engine(url), keys=Keys(b"p" * 32, b"d" * 32), clock=FixedClock(NOW))
    statements: list[str] = []
    event.listen(svc.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    start, end = date(2026, 1, 1), date(2026, 12, 31)

    def baseline() -> float:
        began = time.perf_counter()
        with svc.engine.connect() as conn:
            conn.execute(select(ReportCase).where(ReportCase.received_on.between(start, end))).all()  # type: ignore[attr-defined]
            conn.execute(select(ReportOffer).where(ReportOffer.offered_on.between(start, end))).all()  # type: ignore[attr-defined]
            conn.execute(select(ReportEngagement).where(ReportEngagement.ended_on.between(start, end))).all()  # type: ignore[union-attr]
        return time.perf_counter() - began

    def run(command: str) -> tuple[float, int, float]:
        statements.clear()
        began, cpu = time.perf_counter(), time.process_time()
        reply = dispatch(svc, Invocation(user_id="SEC", text=command, platform="console"))
        elapsed = time.perf_counter() - began
        assert reply.ok, reply.text
        return elapsed, len(statements), time.process_time() - cpu

    baseline(), run("report kpi year=2026")  # warm-up
    base = statistics.median(baseline() for _ in range(5))
    kpi_runs = [run("report kpi year=2026") for _ in range(5)]
    run("report annual year=2026 format=pdf")
    pdf_runs = [run("report annual year=2026 format=pdf") for _ in range(3)]
    svc.engine.dispose()
    return (label, count, base, statistics.median(r[0] for r in kpi_runs), kpi_runs[0][1],
            statistics.median(r[0] for r in pdf_runs), pdf_runs[0][1], statistics.median(r[2] for r in pdf_runs))


def main() -> None:
    results = each_database(measure)
    print("\nReports over the fact store, year 2026 of two (goal at 10 000 cases: kpi ≤ 3× baseline, PDF ≤ 3 s)\n")
    print("| database | cases | baseline SELECT of the year's facts | report kpi | ratio | queries "
          "| report annual format=pdf | its CPU in this process | queries |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, count, base, kpi_s, kpi_q, pdf_s, pdf_q, pdf_cpu in results:
        print(f"| {label} | {count:,} | {base * 1000:.0f} ms | {kpi_s * 1000:.0f} ms | {kpi_s / base:.1f}× | {kpi_q} "
              f"| {pdf_s * 1000:.0f} ms | {pdf_cpu * 1000:.0f} ms | {pdf_q} |")
    print(f"\nload average during the run: {os.getloadavg()[0]:.1f} (on a shared machine, wall times grow with it)")


if __name__ == "__main__":
    main()
