"""The agenda builder (SPEC.md §3): the open cases → seven sections, and ad hoc participants to propose.

Two halves. `load` reads everything a meeting's agenda needs in a fixed number of queries, whatever the
number of cases (aggregates per case, never a query per case). `build` is pure: facts in, agenda out, so
its rules are tested without a database and it orders deterministically. Only categorical fields cross
into the agenda — never a summary, note or decision text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Integer, case, func
from sqlmodel import Session, col, select

from scheduler.rules import LIVE
from storage.enums import CHECKING_ORGS, OPEN_STATES, SEVERITY_RANK, CaseState
from storage.models import (
    AgendaEdit,
    Case,
    CaseCheck,
    CaseEvent,
    FollowUp,
    Meeting,
    MinuteEntry,
    Offer,
    Subject,
)

SECTIONS = (1, 2, 3, 4, 5, 6, 7)
UNREFERRED = (CaseState.new.value, CaseState.qualifying.value)
REVIEW_EVENTS = ("decision", "review")  # a recorded decision is a status review
QUIET_KINDS = ("assess_6m", "outcome_12m")  # outcome checks outlive the case: not "work pending"
PROPOSALS = (("child", "BUF"), ("adult_psych", "PSYCH"))


@dataclass(frozen=True)
class CaseFacts:
    id: int
    ref: str
    state: str
    severity: str
    track: str
    responsible_org: str | None
    received_at: datetime
    deadline_at: datetime
    referred_at: datetime | None
    pseudonyms: tuple[str, ...] = ()
    ages: tuple[str, ...] = ()
    checks_done: int = 0
    checks_found: bool = False
    last_review_at: datetime | None = None
    last_event_at: datetime | None = None
    pending_offer_since: datetime | None = None
    reoffer_due_at: datetime | None = None
    open_work: bool = False
    next_due_at: datetime | None = None


@dataclass(frozen=True)
class Edit:
    id: int
    case_id: int
    action: str
    section: int | None
    position: int | None


@dataclass(frozen=True)
class Previous:
    ref: str
    starts_at: datetime
    state: str
    decisions: int


@dataclass(frozen=True)
class Frame:
    """When the agenda is for, and the rules' parameters."""

    meeting_start: datetime
    following_start: datetime
    previous_start: datetime | None
    now: datetime
    review_days: int
    offer_pending_days: int
    adhoc: bool = False


@dataclass(frozen=True)
class Item:
    case: CaseFacts
    section: int
    reason: str
    added: bool = False

    @property
    def next_deadline(self) -> datetime | None:
        return self.case.deadline_at if self.case.state in UNREFERRED else self.case.next_due_at


@dataclass(frozen=True)
class Proposal:
    org: str
    track: str
    refs: tuple[str, ...]


@dataclass
class Agenda:
    sections: dict[int, list[Item]] = field(default_factory=lambda: {s: [] for s in SECTIONS})
    proposals: list[Proposal] = field(default_factory=list)
    previous: list[Previous] = field(default_factory=list)

    def items(self) -> list[Item]:
        return [item for s in SECTIONS for item in self.sections[s]]


def classify(c: CaseFacts, f: Frame) -> tuple[int, str] | None:
    """The section a case belongs in by the rules, with the reason; None when it needs no discussion."""
    if c.state in UNREFERRED:
        if c.checks_done >= len(CHECKING_ORGS) and not c.checks_found:
            return 6, "no_findings"  # every register checked, nothing found: a concern without substance
        if c.deadline_at <= f.now:
            return 3, "overdue"
        if c.state == CaseState.qualifying and c.deadline_at < f.following_start:
            return 3, "due_before_next"
        return 2, "to_qualify"
    if c.reoffer_due_at is not None and c.reoffer_due_at < f.following_start:
        return 5, "reoffer_due"
    if c.pending_offer_since is not None and c.pending_offer_since <= f.meeting_start - timedelta(
            days=f.offer_pending_days):
        return 5, "offer_pending"
    if c.state == CaseState.follow_up and not c.open_work:
        return 6, "nothing_pending"
    reviewed = c.last_review_at or c.referred_at or c.received_at
    if reviewed <= f.meeting_start - timedelta(days=f.review_days):
        return 4, "review_due"
    if c.last_event_at is not None and (f.previous_start is None or c.last_event_at > f.previous_start):
        return 4, "new_events"
    return None


def _rank(c: CaseFacts) -> int:
    return SEVERITY_RANK.get(c.severity, 9)  # type: ignore[call-overload]


def _order_key(section: int, item: Item, edit_order: dict[int, int]) -> tuple:
    c = item.case
    if section == 2:
        return (_rank(c), c.received_at, c.ref)
    if section == 3:
        return (c.deadline_at, _rank(c), c.ref)
    if section == 5:  # re-offers first (SPEC.md §3 names them first), each by its date
        return (item.reason != "reoffer_due", c.reoffer_due_at or c.pending_offer_since or c.received_at, c.ref)
    if section == 7:
        return (edit_order.get(c.id, 0), c.ref)
    return (_rank(c), c.received_at, c.ref)


def build(facts: list[CaseFacts], frame: Frame, edits: list[Edit], previous: list[Previous] | None = None) -> Agenda:
    """Pure and deterministic: the same facts, frame and edits always give the same agenda."""
    by_case = {e.case_id: e for e in edits}
    edit_order = {e.case_id: e.id for e in edits}
    agenda = Agenda(previous=list(previous or []))
    for c in facts:
        edit = by_case.get(c.id)
        if edit is not None and edit.action == "remove":
            continue
        added = edit is not None and edit.action == "add"
        if frame.adhoc and not added:
            continue  # an ad hoc meeting discusses the cases it was called for
        found = classify(c, frame)
        if found is None and not added:
            continue
        section, reason = found if found is not None else (7, "added")
        if edit is not None and edit.section in SECTIONS[1:]:
            section = edit.section  # the secretariat moved it (add or move)
        agenda.sections[section].append(Item(c, section, reason, added))
    for section in SECTIONS:
        items = sorted(agenda.sections[section], key=lambda i, s=section: _order_key(s, i, edit_order))
        pinned = sorted((i for i in items if (e := by_case.get(i.case.id)) and e.position),
                        key=lambda i: (by_case[i.case.id].position, by_case[i.case.id].id))
        pinned_ids = {i.case.id for i in pinned}
        rest = [i for i in items if i.case.id not in pinned_ids]
        for item in pinned:
            rest.insert(min(len(rest), (by_case[item.case.id].position or 1) - 1), item)
        agenda.sections[section] = rest
    for track, org in PROPOSALS:
        refs = tuple(i.case.ref for i in agenda.items() if i.case.track == track)
        if refs:
            agenda.proposals.append(Proposal(org, track, refs))
    return agenda


# Loading: a fixed number of queries ----------------------------------------------------------------------

def _case_filter(meeting: Meeting, adhoc: bool) -> list:
    """Open cases; for an ad hoc meeting only those it was called for."""
    where = [col(Case.state).in_([s.value for s in OPEN_STATES])]
    if adhoc:
        added = select(AgendaEdit.case_id).where(AgendaEdit.meeting_id == meeting.id, AgendaEdit.action == "add")
        where.append(col(Case.id).in_(added))
    return where


def load_facts(session: Session, meeting: Meeting, adhoc: bool) -> list[CaseFacts]:
    where = _case_filter(meeting, adhoc)
    scope = select(Case.id).where(*where)
    rows = list(session.exec(select(Case.id, Case.ref, Case.state, Case.severity, Case.track, Case.responsible_org,
                                    Case.received_at, Case.deadline_at, Case.referred_at).where(*where)))
    if not rows:
        return []
    subjects: dict[int, list[tuple[str, str]]] = {}
    for case_id, pseudonym, age in session.exec(
            select(Subject.case_id, Subject.pseudonym, Subject.age_band)
            .where(col(Subject.case_id).in_(scope)).order_by(col(Subject.case_id), col(Subject.id))):
        subjects.setdefault(case_id, []).append((pseudonym, age))
    found_flag = func.max(case((col(CaseCheck.found) == True, 1), else_=0).cast(Integer))  # noqa: E712
    checks = {cid: (done, bool(found)) for cid, done, found in session.exec(
        select(CaseCheck.case_id, func.count(col(CaseCheck.id)), found_flag)
        .where(col(CaseCheck.case_id).in_(scope)).group_by(col(CaseCheck.case_id)))}
    review_at = func.max(case((col(CaseEvent.kind).in_(REVIEW_EVENTS), col(CaseEvent.at)), else_=None))
    events = {cid: (reviewed, last) for cid, reviewed, last in session.exec(
        select(CaseEvent.case_id, review_at, func.max(col(CaseEvent.at)))
        .where(col(CaseEvent.case_id).in_(scope)).group_by(col(CaseEvent.case_id)))}
    offers: dict[int, datetime] = {cid: since for cid, since in session.exec(
        select(Offer.case_id, func.min(col(Offer.offered_at))).where(
            Offer.state == "pending", col(Offer.case_id).in_(scope)).group_by(col(Offer.case_id)))}
    followups: dict[int, dict[str, datetime]] = {}
    for cid, kind, due in session.exec(
            select(FollowUp.case_id, FollowUp.kind, func.min(col(FollowUp.due_at)))
            .where(col(FollowUp.state).in_(LIVE), col(FollowUp.case_id).in_(scope))
            .group_by(col(FollowUp.case_id), col(FollowUp.kind))):
        followups.setdefault(cid, {})[kind] = due
    facts: list[CaseFacts] = []
    for cid, ref, state, severity, track, org, received, deadline, referred in rows:
        subs = subjects.get(cid, [])
        done, found = checks.get(cid, (0, False))
        reviewed, last = events.get(cid, (None, None))
        fus = followups.get(cid, {})
        busy = [k for k in fus if k not in QUIET_KINDS]
        facts.append(CaseFacts(
            id=cid, ref=ref, state=state, severity=severity, track=track, responsible_org=org,
            received_at=received, deadline_at=deadline, referred_at=referred,
            pseudonyms=tuple(p for p, _ in subs), ages=tuple(dict.fromkeys(a for _, a in subs)),
            checks_done=done, checks_found=found, last_review_at=_utc(reviewed), last_event_at=_utc(last),
            pending_offer_since=_utc(offers.get(cid)), reoffer_due_at=_utc(fus.get("reoffer")),
            open_work=bool(busy) or cid in offers, next_due_at=_utc(min(fus.values())) if fus else None))
    return facts


def _utc(value: datetime | str | None) -> datetime | None:
    """Aggregates may lose the column type on SQLite: re-read them as aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def load_frame(session: Session, meeting: Meeting, now: datetime, review_days: int,
               offer_pending_days: int) -> tuple[Frame, list[Previous]]:
    """A series meeting looks back to and ahead to meetings of its own series (an ad hoc meeting in between
    does not make cases "new since" or "due before the next"); §1 lists every meeting held since then."""
    live = col(Meeting.state) != "cancelled"
    same = [Meeting.series_id == meeting.series_id] if meeting.series_id is not None else []
    prev_start = session.exec(select(Meeting.starts_at).where(live, *same, col(Meeting.starts_at) < meeting.starts_at)
                              .order_by(col(Meeting.starts_at).desc()).limit(1)).first()
    following = session.exec(select(Meeting.starts_at).where(live, *same, col(Meeting.starts_at) > meeting.starts_at)
                             .order_by(col(Meeting.starts_at)).limit(1)).first()
    previous: list[Previous] = []
    if prev_start is not None:
        counts = (select(MinuteEntry.meeting_id, func.count(col(MinuteEntry.id)).label("n"))
                  .group_by(col(MinuteEntry.meeting_id)).subquery())
        rows = session.exec(select(Meeting.ref, Meeting.starts_at, Meeting.state, counts.c.n)
                            .outerjoin(counts, counts.c.meeting_id == col(Meeting.id))
                            .where(live, col(Meeting.starts_at) >= prev_start,
                                   col(Meeting.starts_at) < meeting.starts_at, Meeting.id != meeting.id)
                            .order_by(col(Meeting.starts_at), col(Meeting.id)))
        previous = [Previous(ref, start, state, int(n or 0)) for ref, start, state, n in rows]
    frame = Frame(meeting_start=meeting.starts_at,
                  following_start=following or meeting.starts_at + timedelta(days=14),
                  previous_start=prev_start, now=now, review_days=review_days,
                  offer_pending_days=offer_pending_days, adhoc=meeting.kind == "adhoc")
    return frame, previous


def load_edits(session: Session, meeting: Meeting) -> list[Edit]:
    return [Edit(e.id, e.case_id, e.action, e.section, e.position) for e in session.exec(  # type: ignore[arg-type]
        select(AgendaEdit).where(AgendaEdit.meeting_id == meeting.id).order_by(col(AgendaEdit.id)))]


def build_for(session: Session, meeting: Meeting, now: datetime, review_days: int = 28,
              offer_pending_days: int = 14) -> Agenda:
    """Load and build one meeting's agenda (a constant number of queries)."""
    frame, previous = load_frame(session, meeting, now, review_days, offer_pending_days)
    return build(load_facts(session, meeting, frame.adhoc), frame, load_edits(session, meeting), previous)
