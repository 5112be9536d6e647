"""A fixture year of a unit, built through the use cases with the clock set to each instant (local time).

2026 in Copenhagen, with one concern in 2025 for the comparison. What it contains, and so what every report
of 2026 must say, is written out in EXPECTED below with the arithmetic; tests/reports check every format
against it, and the retention tests check that erasure leaves it unchanged.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import select

from commands.context import Services
from commands.reply import Invocation, Reply
from commands.router import dispatch
from storage.clock import FixedClock
from storage.db import unit_of_work
from storage.enums import Org, Role
from storage.models import Case, Engagement, FollowUp, Member, Subject
from storage.pseudonym import format_pseudonym

CPH = ZoneInfo("Europe/Copenhagen")
ADMIN = "U_ADMIN"
SECRETARY = "U_SEC"
REPORT_NOW = "2027-08-15 12:00"  # every outcome of 2026 is due by now, except where the script leaves it open

# Receipts (local time): 23 in 2026, one in 2025. Months: Jan 3, Feb 2, Mar 3, Apr 2, May 2, Jun 2, Jul 0,
# Aug 2, Sep 1, Oct 2, Nov 2, Dec 2 = 23. Around midnight and DST: C1 at 00:30 on 1 Jan 2026 (23:30 UTC on
# 31 Dec) is 2026; P1 at 23:30 on 31 Dec 2025 is 2025; C7 at 00:30 on 29 Mar (the spring-forward day);
# C8 at 23:30 CEST on 31 Mar (21:30 UTC) is March; U10 at 00:30 CET on 1 Nov (23:30 UTC on 31 Oct) is November.
CASES: list[tuple[str, str, str, str, str, str]] = [
    # name, received (local), severity, track, age, district
    ("P1", "2025-12-31 23:30", "normal", "adult", "25+", "Valby"),
    ("C1", "2026-01-01 00:30", "high", "child", "15-17", "Nørrebro"),
    ("C2", "2026-01-12 10:00", "high", "child", "15-17", "Nørrebro"),
    ("C3", "2026-01-20 10:00", "high", "child", "15-17", "Nørrebro"),
    ("C4", "2026-02-03 10:00", "normal", "child", "15-17", "Nørrebro"),
    ("C5", "2026-02-16 10:00", "normal", "child", "15-17", "Nørrebro"),
    ("C6", "2026-03-02 10:00", "critical", "child", "15-17", "Nørrebro"),
    ("C7", "2026-03-29 00:30", "normal", "child", "15-17", "Nørrebro"),
    ("C8", "2026-03-31 23:30", "high", "adult", "25+", "Østerbro"),
    ("C9", "2026-04-14 10:00", "normal", "adult_psych", "18-24", "Østerbro"),
    ("C10", "2026-04-27 10:00", "normal", "crime", "18-24", "Østerbro"),
    ("U1", "2026-05-05 10:00", "normal", "adult", "25+", "Nørrebro"),
    ("U2", "2026-05-19 10:00", "normal", "adult", "25+", "Nørrebro"),
    ("U3", "2026-06-02 10:00", "normal", "adult", "25+", "Nørrebro"),
    ("U4", "2026-06-16 10:00", "normal", "adult", "25+", "Nørrebro"),
    ("U5", "2026-08-10 10:00", "normal", "adult", "25+", "Nørrebro"),
    ("U6", "2026-08-24 10:00", "normal", "adult", "25+", "Valby"),
    ("U7", "2026-09-07 10:00", "normal", "adult", "25+", "Valby"),
    ("U8", "2026-10-05 10:00", "normal", "adult", "25+", "Valby"),
    ("U9", "2026-10-19 10:00", "normal", "adult", "25+", "Valby"),
    ("U10", "2026-11-01 00:30", "normal", "adult", "25+", "Valby"),
    ("U11", "2026-11-16 10:00", "normal", "adult", "25+", "Valby"),
    ("U12", "2026-12-07 10:00", "normal", "adult", "25+", "Valby"),
    ("U13", "2026-12-31 23:30", "normal", "adult", "25+", "Valby"),
]
# Districts 2026: Nørrebro 7 (C1–C7) + 5 (U1–U5) = 12, Østerbro 3 (C8–C10), Valby 8 (U6–U13); 12 + 3 + 8 = 23.

# Referral (local). C1–C7, C9, C10 within the deadline; C8 (high, 48 h from 31 Mar 23:30 = 2 Apr 23:30) is
# referred at 3 Apr 04:30: missed by 5 hours. Visitations: 10 referred, 9 in time → 9/10 = 90.0 %, not met.
# U1–U13 and P1 close as unfounded 3 days after receipt, unreferred: not counted.
REFERRALS = {"C1": "2026-01-01 20:00", "C2": "2026-01-13 09:00", "C3": "2026-01-21 09:00",
             "C4": "2026-02-04 09:00", "C5": "2026-02-17 09:00", "C6": "2026-03-02 20:00",
             "C7": "2026-03-30 09:00", "C8": "2026-04-03 04:30", "C9": "2026-04-15 09:00",
             "C10": "2026-04-28 09:00"}

# Offers of the 1-1 courses (mentor, parent coach), by date made (all 2026): o1…o10.
#   C1: o1 mentor 2 Feb, declined 9 Feb; o2 mentor 1 Apr (re-offer), accepted 2 Apr; ended 30 Jun.
#   C2: o3 mentor 23 Feb, declined 2 Mar; o4 mentor 4 May (re-offer), accepted 5 May; ended 31 Jul.
#   C3: o5 mentor 25 May, declined 1 Jun; o6 mentor 3 Aug (re-offer), never answered (pending).
#   C4: o7 mentor 10 Feb, accepted 11 Feb, ended 31 Mar.   C5: o8 mentor 19 Feb, accepted 20 Feb, ended 27 Feb.
#   C6: o9 mentor 9 Mar, accepted 10 Mar, ended 29 May.    C7: o10 parent_coach 6 Apr, accepted 7 Apr (runs on).
#   C9: an exit offer 20 Apr, accepted 21 Apr with consent: not a 1-1 course, in "offers by kind" only.
# Acceptance: accepted o2 o4 o7 o8 o9 o10 = 6, declined o1 o3 o5 = 3, pending o6 → 6/(6+3) = 66.7 %, met (≥ 60 %).
# Re-offers of the 3 declines: o1 (9 Feb) → o2 1 Apr ≤ 9 May ✓, and o2 accepted by 9 Aug ✓; o3 (2 Mar) → o4
# 4 May ≤ 2 Jun ✓, accepted ✓; o5 (1 Jun) → o6 3 Aug ≤ 1 Sep ✓, but by 1 Dec only that one offer, unanswered ✗.
# Within 3 months 3/3 = 100.0 % met; within 6 months 2/3 = 66.7 % not met.
STEPS: list[tuple[str, str, str]] = [
    ("2026-02-02 10:00", "C1", "case offer {ref} subject={p} kind=mentor"),
    ("2026-02-09 10:00", "C1", "case respond {ref} subject={p} kind=mentor declined"),
    ("2026-04-01 10:00", "C1", "case offer {ref} subject={p} kind=mentor"),
    ("2026-04-02 10:00", "C1", "case respond {ref} subject={p} kind=mentor accepted"),
    ("2026-06-30 10:00", "C1", "mentor end {ref} subject={p} result=completed"),
    ("2026-07-06 10:00", "C1", "case close {ref} reason=completed"),
    ("2026-02-23 10:00", "C2", "case offer {ref} subject={p} kind=mentor"),
    ("2026-03-02 11:00", "C2", "case respond {ref} subject={p} kind=mentor declined"),
    ("2026-05-04 10:00", "C2", "case offer {ref} subject={p} kind=mentor"),
    ("2026-05-05 10:00", "C2", "case respond {ref} subject={p} kind=mentor accepted"),
    ("2026-07-31 10:00", "C2", "mentor end {ref} subject={p} result=completed"),
    ("2026-08-10 10:00", "C2", "case close {ref} reason=completed"),
    ("2026-05-25 10:00", "C3", "case offer {ref} subject={p} kind=mentor"),
    ("2026-06-01 10:00", "C3", "case respond {ref} subject={p} kind=mentor declined"),
    ("2026-08-03 10:00", "C3", "case offer {ref} subject={p} kind=mentor"),
    ("2026-02-10 10:00", "C4", "case offer {ref} subject={p} kind=mentor"),
    ("2026-02-11 10:00", "C4", "case respond {ref} subject={p} kind=mentor accepted"),
    ("2026-03-31 10:00", "C4", "mentor end {ref} subject={p} result=completed"),
    ("2026-04-06 10:00", "C4", "case close {ref} reason=completed"),
    ("2026-02-19 10:00", "C5", "case offer {ref} subject={p} kind=mentor"),
    ("2026-02-20 10:00", "C5", "case respond {ref} subject={p} kind=mentor accepted"),
    ("2026-02-27 10:00", "C5", "mentor end {ref} subject={p} result=completed"),
    ("2026-03-02 10:00", "C5", "case close {ref} reason=completed"),
    ("2026-03-09 10:00", "C6", "case offer {ref} subject={p} kind=mentor"),
    ("2026-03-10 10:00", "C6", "case respond {ref} subject={p} kind=mentor accepted"),
    ("2026-05-29 10:00", "C6", "mentor end {ref} subject={p} result=completed"),
    ("2026-06-08 10:00", "C6", "case close {ref} reason=completed"),
    ("2026-04-06 10:00", "C7", "case offer {ref} subject={p} kind=parent_coach"),
    ("2026-04-07 10:00", "C7", "case respond {ref} subject={p} kind=parent_coach accepted"),
    ("2026-04-20 10:00", "C9", "case offer {ref} subject={p} kind=exit"),
    ("2026-04-21 10:00", "C9", "case respond {ref} subject={p} kind=exit accepted consent=yes"),
]
# Mentor engagements ended in 2026: o8 (27 Feb), o7 (31 Mar), o9 (29 May), o2 (30 Jun), o4 (31 Jul) = 5.
# The 6-month check ("no longer at risk?", yes = not at risk), answered on its due day:
#   C5 no, C4 yes, C6 yes, C1 yes, C2 yes → 4/5 = 80.0 %, met (≥ 70 %).
# The 12-month check ("in education or employment?"): C5 yes, C4 yes, C1 yes, C2 no, C6 never answered
#   → 3/4 = 75.0 %, met (≥ 70 %), 1 pending.
OUTCOMES: list[tuple[str, str, str]] = [  # case, follow-up kind, answer
    ("C5", "assess_6m", "no"), ("C4", "assess_6m", "yes"), ("C6", "assess_6m", "yes"),
    ("C1", "assess_6m", "yes"), ("C2", "assess_6m", "yes"),
    ("C5", "outcome_12m", "yes"), ("C4", "outcome_12m", "yes"), ("C1", "outcome_12m", "yes"),
    ("C2", "outcome_12m", "no"),
]
# Closures 2026 (by the local day of closing): completed C5 (2 Mar), C4 (6 Apr), C6 (8 Jun), C1 (6 Jul), C2
# (10 Aug) = 5; unfounded P1 (3 Jan 2026) and U1–U12 = 13 (U13 closes on 3 Jan 2027).
# Days open, in local calendar days: child C5 14, C4 62, C6 98, C1 186, C2 210 → median 98; adult 13 × 3 → 3.

EXPECTED = {
    "concerns": 23,
    "acceptance": (6, 9, 1),  # numerator, denominator, pending
    "reoffer_3m": (3, 3, 0),
    "reoffer_6m": (2, 3, 0),
    "education_12m": (3, 4, 1),
    "not_at_risk_6m": (4, 5, 0),
    "visitation": (9, 10, 0),
    "months": [3, 2, 3, 2, 2, 2, 0, 2, 1, 2, 2, 2],
    "districts": {"Nørrebro": 12, "Østerbro": 3, "Valby": 8},
    "tracks": {"child": 7, "adult": 14, "adult_psych": 1, "crime": 1},
    "closures": {"completed": 5, "unfounded": 13},
    "median_child": 98,
    "median_adult": 3,
}


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CPH)


class Year:
    """Runs the script; `refs[name]` and `pseudonym[name]` are known once a case is registered."""

    def __init__(self, svc: Services, clock: FixedClock) -> None:
        self.svc, self.clock = svc, clock
        self.refs: dict[str, str] = {}
        self.pseudonym: dict[str, str] = {}

    def at(self, when: str) -> None:
        self.clock.instant = local(when).astimezone(ZoneInfo("UTC"))

    def ok(self, text: str, user: str = ADMIN) -> Reply:
        reply = dispatch(self.svc, Invocation(user_id=user, text=text, platform="console"))
        assert reply.ok, f"{self.clock.instant} {text!r} → {reply.text}"
        return reply

    def seed(self) -> Year:
        with unit_of_work(self.svc.engine) as session:
            session.add(Member(user_id=ADMIN, platform="console", role=Role.admin.value, org=Org.BIF.value,
                               display_name="admin", created_at=local("2025-12-01 09:00")))
            session.add(Member(user_id=SECRETARY, platform="console", role=Role.secretariat.value,
                               org=Org.BIF.value, display_name="sek", created_at=local("2025-12-01 09:00")))
        return self

    def build(self) -> Year:
        self.seed()
        script: list[tuple[datetime, int, str, str]] = []
        for n, (name, received, *_rest) in enumerate(CASES):
            script.append((local(received), n, name, "receive"))
            if name in REFERRALS:
                script.append((local(REFERRALS[name]), n, name, "refer"))
            else:
                script.append((local(received).replace(hour=10, minute=0) + _days(3), n, name, "unfounded"))
        for n, (when, name, text) in enumerate(STEPS):
            script.append((local(when), 100 + n, name, text))
        script.sort(key=lambda item: (item[0], item[1]))
        for when, _n, name, action in script:
            self.clock.instant = when.astimezone(ZoneInfo("UTC"))
            self._act(name, action)
        self._answer_outcomes()
        self.at(REPORT_NOW)
        return self

    def _act(self, name: str, action: str) -> None:
        if action == "receive":
            _, _, severity, track, age, district = next(c for c in CASES if c[0] == name)
            reply = self.ok(f"concern new severity={severity} track={track} age={age} source=school "
                            f'district="{district}" basis=rpl115 summary="Bekymring nr. {name}"')
            ref = re.search(r"KE-\d{4}-\d{4}", reply.text)
            assert ref is not None
            self.refs[name] = ref.group(0)
            with unit_of_work(self.svc.engine) as session:
                case = session.exec(select(Case).where(Case.ref == ref.group(0))).one()
                self.pseudonym[name] = session.exec(select(Subject.pseudonym).where(
                    Subject.case_id == case.id)).one()
        elif action == "refer":
            self.ok(f"case qualify {self.refs[name]} level=preventive")
            self.ok(f"case refer {self.refs[name]} to=SOF")
        elif action == "unfounded":
            self.ok(f"case close {self.refs[name]} reason=unfounded")
        else:
            # typed as a user would, `7KQ2-M9XD`: eight bare digits could read as a phone number to the PII guard
            self.ok(action.format(ref=self.refs[name], p=format_pseudonym(self.pseudonym[name])))

    def _answer_outcomes(self) -> None:
        for name, kind, answer in OUTCOMES:
            with unit_of_work(self.svc.engine) as session:
                case = session.exec(select(Case).where(Case.ref == self.refs[name])).one()
                followup = session.exec(select(FollowUp).join(Engagement, Engagement.id == FollowUp.engagement_id)
                                        .where(FollowUp.case_id == case.id, FollowUp.kind == kind)).one()
            self.clock.instant = followup.due_at
            self.ok(f"followup done F-{followup.id} outcome={answer}")


def _days(n: int):  # noqa: ANN202
    from datetime import timedelta

    return timedelta(days=n)
