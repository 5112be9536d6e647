"""The unit's five targets (SPEC.md §5, the seed's effektmål) computed from the fact store for a period of
local calendar days. Which events count in a period is written down in docs/reports.md."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from storage.enums import Severity, Track
from storage.fact_tables import ReportCase, ReportContact, ReportEngagement, ReportOffer, ReportStep, ReportTakeover

CASE, OFFER, ENGAGEMENT = (ReportCase.__table__, ReportOffer.__table__,  # type: ignore[attr-defined]
                           ReportEngagement.__table__)  # type: ignore[attr-defined]  # rows, not ORM objects: speed
COURSES = ("mentor", "parent_coach")  # the seed's voluntary 1-1 courses
KPI_NAMES = ("acceptance", "reoffer_3m", "reoffer_6m", "education_12m", "not_at_risk_6m", "visitation")
TARGETS: dict[str, float] = {"acceptance": 0.60, "reoffer_3m": 1.0, "reoffer_6m": 1.0, "education_12m": 0.70,
                             "not_at_risk_6m": 0.70, "visitation": 1.0}


@dataclass
class Ratio:
    num: int = 0
    den: int = 0
    pending: int = 0
    target: float = 1.0

    def add(self, verdict: bool | None, times: int = 1) -> None:
        if verdict is None:
            self.pending += times
        else:
            self.den += times
            self.num += times * int(verdict)

    @property
    def pct(self) -> float | None:
        return None if self.den == 0 else 100.0 * self.num / self.den

    @property
    def met(self) -> bool | None:
        return None if self.den == 0 else self.num / self.den >= self.target - 1e-9


@dataclass
class Kpis:
    start: date
    end: date
    concerns: int = 0  # cases received in the period (a promoted advice contact counts here, once)
    open_now: int = 0
    advice: int = 0  # advice contacts received in the period that stayed advice (no case)
    courses: int = 0  # cases received in the period that were referred: the seed's "sagsforløb"
    taken_over: int = 0  # of `concerns`, cases taken over by import: left out of the visitation target

    @property
    def contacts(self) -> int:
        """Every contact received in the period (the seed's "henvendelser"): advice contacts and cases."""
        return self.advice + self.concerns
    ratios: dict[str, Ratio] = field(default_factory=dict)
    visitation_by_severity: dict[str, Ratio] = field(default_factory=dict)
    steps_by_track: dict[str, Ratio] = field(default_factory=dict)  # procedure steps on time, per track


def _add_months(instant: datetime, months: int, tz: ZoneInfo) -> datetime:
    """Calendar months in local wall-clock time (the reminder rules do the same)."""
    return (instant.astimezone(tz) + relativedelta(months=months)).astimezone(instant.tzinfo)


def visitation_verdict(c: Any, now: datetime) -> bool | None:
    """Met/missed at the first referral; an open case past its deadline has missed it; a case closed without
    referral (no local action needed) is not counted (None, like one still within its deadline)."""
    if c.referred_at is not None:
        return bool(c.deadline_met)
    if c.closed_on is None and now > c.deadline_at:
        return False
    return None


def reoffer_verdicts(declined: Any, later: list[Any], now: datetime, tz: ZoneInfo
                     ) -> tuple[bool | None, bool | None]:
    """Within 3 months: offered again by then. Within 6 months: offered again twice by then (at the 3- and the
    6-month follow-ups), or once and accepted. None: still open, pending."""
    assert declined.responded_at is not None
    t3, t6 = _add_months(declined.responded_at, 3, tz), _add_months(declined.responded_at, 6, tz)
    by3 = [o for o in later if o.offered_at <= t3]
    by6 = [o for o in later if o.offered_at <= t6]
    v3 = True if by3 else (None if now <= t3 else False)
    done6 = len(by6) >= 2 or any(o.response == "accepted" for o in by6)
    v6 = True if done6 else (None if now <= t6 else False)
    return v3, v6


def step_verdict(state: str, due_at: datetime, done_at: datetime | None, now: datetime) -> bool | None:
    """On time: done by its due time. Done later, or still open after it: late. Open and not yet due:
    pending. (Skipped steps are not counted at all: the caller leaves them out.)"""
    if state == "done" and done_at is not None:
        return done_at <= due_at
    return False if now > due_at else None


def _n(condition: Any) -> Any:
    """How many of the grouped rows meet `condition` (SQL; the same on SQLite and PostgreSQL)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def compute(session: Session, start: date, end: date, now: datetime, tz: ZoneInfo,
            targets: dict[str, float] | None = None) -> Kpis:
    """A fixed number of queries whatever the number of cases, counted in the database (GROUP BY): only the
    declined offers' histories come back as rows. `targets`: the unit profile's (default: Copenhagen's)."""
    k = Kpis(start, end)
    k.ratios = {name: Ratio(target=(targets or {}).get(name, TARGETS[name])) for name in KPI_NAMES}
    k.visitation_by_severity = {s.value: Ratio(target=1.0) for s in Severity}
    c = CASE.c
    referred, still_open = c.referred_at.is_not(None), c.closed_on.is_(None)
    taken_over = c.fact_key.in_(select(ReportTakeover.fact_key))
    # visitation_verdict in SQL; closed without referral (no local action needed) and taken over (the
    # visitation happened before koordinator) are not counted
    counted = and_(or_(referred, still_open), ~taken_over)
    met = and_(referred, c.deadline_met.is_(True))
    missed = or_(and_(referred, c.deadline_met.is_not(True)), and_(~referred, still_open, c.deadline_at < now))
    waiting = and_(~referred, still_open, c.deadline_at >= now)
    for severity, concerns, courses, taken, n_met, n_missed, n_waiting in session.execute(
            select(c.severity, func.count(), _n(referred), _n(taken_over), _n(and_(counted, met)),
                   _n(and_(counted, missed)), _n(and_(counted, waiting)))
            .where(c.received_on.between(start, end)).group_by(c.severity).order_by(c.severity)):
        k.concerns += concerns
        k.courses += courses
        k.taken_over += taken
        for ratio in (k.ratios["visitation"], k.visitation_by_severity.setdefault(severity, Ratio())):
            ratio.add(True, n_met)
            ratio.add(False, n_missed)
            ratio.add(None, n_waiting)
    k.advice = session.execute(select(func.count()).select_from(ReportContact).where(
        ReportContact.received_on.between(start, end), ReportContact.promoted_on.is_(None))).scalar_one()  # type: ignore[union-attr,attr-defined]
    k.open_now = session.execute(select(func.count()).select_from(ReportCase)
                                 .where(ReportCase.closed_on.is_(None))).scalar_one()  # type: ignore[union-attr]
    for response, times in session.execute(select(OFFER.c.response, func.count()).where(
            OFFER.c.offered_on.between(start, end), OFFER.c.kind.in_(COURSES)).group_by(OFFER.c.response)):
        if response != "withdrawn":
            k.ratios["acceptance"].add(None if response == "pending" else response == "accepted", times)
    declined_keys = (select(ReportOffer.fact_key).where(
        ReportOffer.response == "declined", ReportOffer.kind.in_(COURSES),  # type: ignore[attr-defined]
        ReportOffer.responded_on.between(start, end)))  # type: ignore[union-attr]
    related = session.execute(select(*OFFER.c).where(
        OFFER.c.fact_key.in_(declined_keys), OFFER.c.kind.in_(COURSES)).order_by(OFFER.c.offered_at)).all()
    per_person: dict[tuple[str, int], list[Any]] = defaultdict(list)
    for o in related:
        per_person[(o.fact_key, o.subject_n)].append(o)
    for d in related:
        if d.response != "declined" or d.responded_on is None or not start <= d.responded_on <= end:
            continue
        later = [o for o in per_person[(d.fact_key, d.subject_n)] if o.id != d.id and o.offered_at > d.responded_at]
        v3, v6 = reoffer_verdicts(d, later, now, tz)
        k.ratios["reoffer_3m"].add(v3)
        k.ratios["reoffer_6m"].add(v6)
    # the seed's 70 % targets: completed mentor courses only (a course ended before results were recorded
    # has none and counts as completed, as it did then; dropped out, moved and other are left out)
    g = ENGAGEMENT.c
    for education, not_at_risk, times in session.execute(
            select(g.in_education_12m, g.not_at_risk_6m, func.count()).where(
                g.ended_on.between(start, end), g.kind == "mentor", or_(g.result.is_(None), g.result == "completed"))
            .group_by(g.in_education_12m, g.not_at_risk_6m)):
        k.ratios["education_12m"].add(None if education is None else bool(education), times)
        k.ratios["not_at_risk_6m"].add(None if not_at_risk is None else bool(not_at_risk), times)
    k.steps_by_track = {t.value: Ratio() for t in Track}
    st = ReportStep.__table__.c  # type: ignore[attr-defined]
    on_time = case((and_(st.state == "done", st.done_at.is_not(None)), case((st.done_at <= st.due_at, 1), else_=0)),
                   (st.due_at < now, 0), else_=None)  # step_verdict in SQL: 1 on time, 0 late, NULL pending
    steps = (select(c.track, on_time.label("verdict")).select_from(ReportStep.__table__)  # type: ignore[attr-defined]
             .join(CASE, c.fact_key == st.fact_key)
             .where(st.due_on.between(start, end), st.state != "skipped").subquery())
    for track, verdict, times in session.execute(
            select(steps.c.track, steps.c.verdict, func.count())
            .group_by(steps.c.track, steps.c.verdict).order_by(steps.c.track)):
        k.steps_by_track.setdefault(track, Ratio()).add(None if verdict is None else bool(verdict), times)
    return k
