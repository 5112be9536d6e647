"""The annual report's figures (exact counts), read from the fact store in a fixed number of queries.
Suppression and formats are applied when it is written (commands/reports/documents.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from commands.reports import kpi
from commands.reports.kpi import CASE
from storage.enums import AgeBand, CloseReason, CourseResult, Level, OfferKind, Severity, Source, Track
from storage.fact_tables import ReportEngagement, ReportOffer, ReportSubject

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


def _ordered(codes: list[str], counts: Counter[str]) -> list[str]:
    """The known codes in their order, then any other value that occurs (an archived district), then 'unset'."""
    extra = sorted(k for k in counts if k not in codes and k != UNSET)
    return codes + extra + ([UNSET] if counts.get(UNSET) else [])


def _table(key: str, codes: list[str], now: Counter[str], before: Counter[str] | None, total: bool = True) -> Table:
    labels = _ordered(codes, now + (before or Counter()))
    return Table(key, labels, [now.get(x, 0) for x in labels],
                 None if before is None else [before.get(x, 0) for x in labels], total)


Group = tuple[bool, dict[str, Any], int]  # in the report's year (else the year before), the values, how many


def _groups(session: Session, day: Any, year: int, columns: dict[str, Any], *where: Any, joined: Any = None
            ) -> list[Group]:
    """The rows of `year` and of the year before (by the local day `day`), counted in the database for each
    combination of `columns` that occurs: one pass over the rows, the same SQL on SQLite and PostgreSQL. A
    table of the report then adds up the groups it needs (`_split`)."""
    # The two years picked by the year of the day, not a range of dates: both engines then read the table once
    # from end to end (and a join from its larger side), which for two years of a table is faster than a
    # range of its index and a look-up per row (SQLite: 0.6 → 0.3 s for the persons at 100 000 cases).
    inner = select((day >= date(year, 1, 1)).label("this_year"), *(expr.label(name) for name, expr in columns.items())
                   ).where(extract("year", day).in_((year - 1, year)), *where)
    if joined is not None:
        inner = inner.select_from(joined)
    rows = inner.subquery()
    found = session.execute(select(*rows.c, func.count()).group_by(*rows.c))
    return [(bool(row[0]), dict(zip(columns, row[1:-1], strict=True)), row[-1]) for row in found]


def _split(groups: list[Group], name: str, unset: bool = True) -> tuple[Counter[Any], Counter[Any]]:
    """How many rows hold each value of `name`, in the year and the year before; with `unset`, an empty value
    is counted as 'not recorded'."""
    now: Counter[Any] = Counter()
    before: Counter[Any] = Counter()
    for this_year, values, times in groups:
        value = values[name]
        (now if this_year else before)[(value or UNSET) if unset else value] += times
    return now, before


def build(session: Session, year: int, now: datetime, tz: ZoneInfo, districts: tuple[str, ...],
          targets: dict[str, float] | None = None) -> Annual:
    """Five grouped counts over the fact store and the targets of both years (kpi.compute), whatever the
    number of cases."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    c = CASE.c
    cases = _groups(session, c.received_on, year, {"month": extract("month", c.received_on), "source": c.source,
                                                   "track": c.track, "district": c.district, "level": c.level,
                                                   "severity": c.severity, "referral_org": c.referral_org,
                                                   "indicators": c.indicators})
    months, months_before = _split(cases, "month", unset=False)
    has_before = bool(months_before)
    report = Annual(year, now.astimezone(tz), kpi.compute(session, start, end, now, tz, targets),
                    kpi.compute(session, date(year - 1, 1, 1), date(year - 1, 12, 31), now, tz, targets)
                    if has_before else None,
                    Table("months", [f"{m:02d}" for m in range(1, 13)],
                          [months.get(m, 0) for m in range(1, 13)],
                          [months_before.get(m, 0) for m in range(1, 13)] if has_before else None))

    def tab(key: str, attr: str, codes: list[str]) -> Table:
        counted, before = _split(cases, attr)
        return _table(key, codes, counted, before if has_before else None)

    def indicators() -> Table:
        counted: Counter[str] = Counter()
        before: Counter[str] = Counter()
        for this_year, values, times in cases:
            for i in values["indicators"].split(","):
                if i:
                    (counted if this_year else before)[i] += times
        return _table("indicators", [], counted, before if has_before else None, total=False)

    persons = _groups(session, c.received_on, year, {"age_band": SUBJECT.age_band, "own": SUBJECT.track,
                                                     "of_case": c.track}, joined=SUBJECTS_OF_CASES)
    report.tables += [
        tab("source", "source", [s.value for s in Source]),
        tab("track", "track", [t.value for t in Track]),
        tab("district", "district", list(districts)),
        _table("age", [a.value for a in AgeBand], *_either(_split(persons, "age_band", unset=False), has_before)),
        tab("level", "level", [v.value for v in Level]),
        tab("severity", "severity", [s.value for s in Severity]),
        tab("referral", "referral_org", []),
        indicators(),
    ]
    closures = _groups(session, c.closed_on, year, {"reason": c.close_reason, "track": c.track,
                                                    "days": c.days_open})
    report.tables.append(_table("closures", [r.value for r in CloseReason],
                                *_either(_split(closures, "reason"), has_before)))
    spans: dict[str, list[int]] = {}  # the medians from how many cases closed after each number of days
    for this_year, values, times in closures:
        if this_year and values["days"] is not None:
            spans.setdefault(values["track"], []).extend([values["days"]] * times)
    for track in [t.value for t in Track]:
        days = spans.get(track, [])
        report.medians.append(Median(track, len(days), float(median(days)) if days else None))
    # persons (not cases) by their own track: a family counts each of its persons on their track
    by_own: list[Group] = [(this_year, {"track": values["own"] or values["of_case"]}, times)
                           for this_year, values, times in persons]
    report.tables.append(_table("persons_track", [t.value for t in Track],
                                *_either(_split(by_own, "track", unset=False), has_before)))
    # the seed's 1-1 courses that ended in the year, by how they ended (`mentor end … result=`); a course
    # ended before results were recorded is shown as not recorded
    g = ReportEngagement.__table__.c  # type: ignore[attr-defined]
    results = _groups(session, g.ended_on, year, {"result": g.result}, g.kind.in_(kpi.COURSES))
    report.tables.append(_table("results", [r.value for r in CourseResult], *_either(_split(results, "result"),
                                                                                    has_before)))
    o = ReportOffer.__table__.c  # type: ignore[attr-defined]
    count = Counter({(kind, response): times for kind, response, times in session.execute(
        select(o.kind, o.response, func.count()).where(o.offered_on.between(start, end)).group_by(o.kind, o.response))})
    per_kind: Counter[str] = Counter()
    for (kind, _response), times in count.items():
        per_kind[kind] += times
    kinds = _ordered([k.value for k in OfferKind], per_kind)
    report.offers = Grid("offers", kinds, list(RESPONSES), [[count.get((k, r), 0) for r in RESPONSES] for k in kinds])
    return report


def _either(counts: tuple[Counter[Any], Counter[Any]], has_before: bool) -> tuple[Counter[Any], Counter[Any] | None]:
    """The year's counts, and the year before's when the report shows that year."""
    return counts[0], counts[1] if has_before else None


SUBJECT = ReportSubject.__table__.c  # type: ignore[attr-defined]
SUBJECTS_OF_CASES = ReportSubject.__table__.join(CASE, CASE.c.fact_key == SUBJECT.fact_key)  # type: ignore[attr-defined]
