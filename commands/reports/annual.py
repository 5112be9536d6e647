"""The annual report's figures (exact counts), read from the fact store in a fixed number of queries.
Suppression and formats are applied when it is written (commands/reports/documents.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.reports import kpi
from commands.reports.kpi import CASE
from storage.enums import AgeBand, CloseReason, CourseResult, Level, OfferKind, Severity, Source, Track
from storage.facts import ReportCase, ReportEngagement, ReportOffer, ReportSubject

RESPONSES = ("accepted", "declined", "pending", "withdrawn")
UNSET = ""


@dataclass
class Table:
    key: str  # catalog key suffix: report.section.<key>
    labels: list[str]  # codes (translated when written)
    current: list[int]
    previous: list[int] | None = None
    total: bool = True  # a total row is shown (and so complementary suppression applies)


@dataclass
class Grid:
    key: str
    rows: list[str]
    cols: list[str]
    cells: list[list[int]]


@dataclass
class Median:
    track: str
    n: int
    days: float | None


@dataclass
class Annual:
    year: int
    made: datetime  # local time
    kpis: kpi.Kpis
    previous_kpis: kpi.Kpis | None
    months: Table
    tables: list[Table] = field(default_factory=list)
    offers: Grid | None = None
    medians: list[Median] = field(default_factory=list)


def _ordered(codes: list[str], seen: Counter[str]) -> list[str]:
    """The known codes in their order, then any other value that occurs (an archived district), then 'unset'."""
    extra = sorted(k for k in seen if k not in codes and k != UNSET)
    return codes + extra + ([UNSET] if seen.get(UNSET) else [])


def _table(key: str, codes: list[str], now: Counter[str], before: Counter[str] | None, total: bool = True) -> Table:
    labels = _ordered(codes, now + (before or Counter()))
    return Table(key, labels, [now.get(x, 0) for x in labels],
                 None if before is None else [before.get(x, 0) for x in labels], total)


def _cases(session: Session, year: int) -> list[Any]:
    in_year = CASE.c.received_on.between(date(year, 1, 1), date(year, 12, 31))
    return list(session.execute(select(*CASE.c).where(in_year)))


def build(session: Session, year: int, now: datetime, tz: ZoneInfo, districts: tuple[str, ...],
          targets: dict[str, float] | None = None) -> Annual:
    start, end = date(year, 1, 1), date(year, 12, 31)
    cases, before = _cases(session, year), _cases(session, year - 1)
    has_before = bool(before)
    report = Annual(year, now.astimezone(tz), kpi.compute(session, start, end, now, tz, targets),
                    kpi.compute(session, date(year - 1, 1, 1), date(year - 1, 12, 31), now, tz, targets)
                    if has_before else None,
                    Table("months", [f"{m:02d}" for m in range(1, 13)],
                          [sum(1 for c in cases if c.received_on.month == m) for m in range(1, 13)],
                          [sum(1 for c in before if c.received_on.month == m) for m in range(1, 13)]
                          if has_before else None))

    def tally(rows: list[Any], attr: str) -> Counter[str]:
        return Counter((getattr(c, attr) or UNSET) for c in rows)

    def tab(key: str, attr: str, codes: list[str]) -> Table:
        return _table(key, codes, tally(cases, attr), tally(before, attr) if has_before else None)

    report.tables += [
        tab("source", "source", [s.value for s in Source]),
        tab("track", "track", [t.value for t in Track]),
        tab("district", "district", list(districts)),
        _ages(session, year, has_before),
        tab("level", "level", [v.value for v in Level]),
        tab("severity", "severity", [s.value for s in Severity]),
        tab("referral", "referral_org", []),
        _table("indicators", [], Counter(i for c in cases for i in c.indicators.split(",") if i),
               Counter(i for c in before for i in c.indicators.split(",") if i) if has_before else None,
               total=False),
    ]
    closed = list(session.execute(select(*CASE.c).where(CASE.c.closed_on.between(date(year - 1, 1, 1), end))))
    this_year = [c for c in closed if c.closed_on is not None and c.closed_on >= start]
    last_year = [c for c in closed if c.closed_on is not None and c.closed_on < start]
    report.tables.append(_table("closures", [r.value for r in CloseReason], tally(this_year, "close_reason"),
                                tally(last_year, "close_reason") if has_before else None))
    for track in [t.value for t in Track]:
        days = [c.days_open for c in this_year if c.track == track and c.days_open is not None]
        report.medians.append(Median(track, len(days), float(median(days)) if days else None))
    report.tables.append(_persons_by_track(session, year, has_before))
    report.tables.append(_results(session, year, has_before))
    offers = list(session.execute(select(ReportOffer.kind, ReportOffer.response).where(
        ReportOffer.offered_on.between(start, end))).all())  # type: ignore[attr-defined]
    count = Counter((o.kind, o.response) for o in offers)
    kinds = _ordered([k.value for k in OfferKind], Counter(o.kind for o in offers))
    report.offers = Grid("offers", kinds, list(RESPONSES), [[count.get((k, r), 0) for r in RESPONSES] for k in kinds])
    return report


def _ages(session: Session, year: int, has_before: bool) -> Table:
    rows = session.execute(select(ReportSubject.age_band, ReportCase.received_on)
                           .join(ReportCase, ReportCase.fact_key == ReportSubject.fact_key)
                           .where(ReportCase.received_on.between(date(year - 1, 1, 1), date(year, 12, 31)))  # type: ignore[attr-defined]
                           ).all()
    now = Counter(r.age_band for r in rows if r.received_on.year == year)
    before = Counter(r.age_band for r in rows if r.received_on.year == year - 1)
    return _table("age", [a.value for a in AgeBand], now, before if has_before else None)


def _persons_by_track(session: Session, year: int, has_before: bool) -> Table:
    """Persons (not cases) by their own track: a family counts each of its persons on their track."""
    rows = session.execute(select(ReportSubject.track, ReportCase.track.label("case_track"), ReportCase.received_on)  # type: ignore[attr-defined]
                           .join(ReportCase, ReportCase.fact_key == ReportSubject.fact_key)
                           .where(ReportCase.received_on.between(date(year - 1, 1, 1), date(year, 12, 31)))  # type: ignore[attr-defined]
                           ).all()
    now = Counter(r.track or r.case_track for r in rows if r.received_on.year == year)
    before = Counter(r.track or r.case_track for r in rows if r.received_on.year == year - 1)
    return _table("persons_track", [t.value for t in Track], now, before if has_before else None)


def _results(session: Session, year: int, has_before: bool) -> Table:
    """The seed's 1-1 courses that ended in the year, by how they ended (`mentor end … result=`); a course
    ended before results were recorded is shown as not recorded."""
    rows = session.execute(select(ReportEngagement.result, ReportEngagement.ended_on).where(
        ReportEngagement.ended_on.between(date(year - 1, 1, 1), date(year, 12, 31)),  # type: ignore[union-attr]
        ReportEngagement.kind.in_(kpi.COURSES))).all()  # type: ignore[attr-defined]
    now = Counter(r.result or UNSET for r in rows if r.ended_on.year == year)
    before = Counter(r.result or UNSET for r in rows if r.ended_on.year == year - 1)
    return _table("results", [r.value for r in CourseResult], now, before if has_before else None)
