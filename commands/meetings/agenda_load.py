"""Reading an agenda's facts in a fixed number of queries, whatever the number of open cases.

One query returns every open case with its per-case aggregates (subjects, register checks, offers, follow-ups)
joined on — the timeline's last entry and last review are kept on the case row (`record.stamp`), not
aggregated from the events — read as plain rows through the session's connection; a few small queries fetch
the meeting's neighbours and the secretariat's edits. Timestamps are read raw and made aware here: at 10 000
cases the ORM's row handling and the column type's per-value conversion would cost more than the queries.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import Integer, case, func, type_coerce
from sqlalchemy.types import NullType
from sqlmodel import Session, col, select

from commands.followups.rules import LIVE
from commands.meetings.agenda_build import (
    Agenda,
    CaseFacts,
    Edit,
    Frame,
    LateStep,
    Person,
    Previous,
    build,
)
from storage.enums import OPEN_STATES
from storage.models import (
    AgendaEdit,
    Case,
    CaseCheck,
    Disclosure,
    FollowUp,
    Meeting,
    Member,
    MinuteEntry,
    Offer,
    Subject,
)
from storage.profile import Profile
from storage.profile.tables import CaseStep

QUIET_KINDS = ("assess_6m", "outcome_12m")  # outcome checks outlive the case: not "work pending"


def _raw(expr):  # noqa: ANN001, ANN202 — the driver's value, without the column type's conversion
    return type_coerce(expr, NullType())


def _as_utc_text(value: str | None) -> datetime | None:
    """SQLite keeps UTC as naive ISO text (storage/types.py): parse it as aware UTC."""
    return None if value is None else datetime.fromisoformat(value + "+00:00")


def _as_is(value: datetime | None) -> datetime | None:
    return value  # PostgreSQL's timestamptz arrives aware


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
    checks = (select(CaseCheck.case_id.label("cid"), func.count(col(CaseCheck.id)).label("done"),  # type: ignore[attr-defined]
                     func.max(case((col(CaseCheck.found) == True, 1), else_=0).cast(Integer)).label("found"))  # noqa: E712
              .where(col(CaseCheck.case_id).in_(scope)).group_by(col(CaseCheck.case_id)).subquery())
    offers = (select(Offer.case_id.label("cid"), func.min(col(Offer.offered_at)).label("since"))  # type: ignore[attr-defined]
              .where(Offer.state == "pending", col(Offer.case_id).in_(scope)).group_by(col(Offer.case_id)).subquery())
    followups = (select(FollowUp.case_id.label("cid"),  # type: ignore[attr-defined]
                        func.min(case((FollowUp.kind == "reoffer", col(FollowUp.due_at)))).label("reoffer"),
                        func.min(col(FollowUp.due_at)).label("next_due"),
                        func.max(case((col(FollowUp.kind).in_(QUIET_KINDS), 0), else_=1)).label("busy"))
                 .where(col(FollowUp.state).in_(LIVE), col(FollowUp.case_id).in_(scope))
                 .group_by(col(FollowUp.case_id)).subquery())
    # each person as pseudonym|age|track|relation|org: the agenda shows each person's age in the order of the
    # pseudonyms, and a family's persons with their own track, relation and authority
    person = (col(Subject.pseudonym) + "|" + col(Subject.age_band) + "|" + func.coalesce(col(Subject.track), "")
              + "|" + func.coalesce(col(Subject.relation), "") + "|" + func.coalesce(col(Subject.responsible_org), ""))
    subjects = (select(Subject.case_id.label("cid"), _concat(session, person).label("persons"))  # type: ignore[attr-defined]
                .where(col(Subject.case_id).in_(scope)).group_by(col(Subject.case_id)).subquery())
    stmt = (select(Case.id, Case.ref, Case.state, Case.severity, Case.track, Case.responsible_org,
                   _raw(Case.received_at), _raw(Case.deadline_at), _raw(Case.referred_at),
                   subjects.c.persons, checks.c.done, checks.c.found, _raw(Case.reviewed_at),
                   _raw(Case.last_event_at), _raw(offers.c.since), _raw(followups.c.reoffer),
                   _raw(followups.c.next_due), followups.c.busy)
            .outerjoin(subjects, subjects.c.cid == col(Case.id))
            .outerjoin(checks, checks.c.cid == col(Case.id)).outerjoin(offers, offers.c.cid == col(Case.id))
            .outerjoin(followups, followups.c.cid == col(Case.id)).where(*where))
    rows = session.connection().execute(stmt).all()
    if session.get_bind().dialect.name != "postgresql":  # PostgreSQL's timestamptz arrives aware already
        at = _as_utc_text
        rows = [(*row[:6], at(row[6]), at(row[7]), at(row[8]), *row[9:12], at(row[12]), at(row[13]), at(row[14]),
                 at(row[15]), at(row[16]), row[17]) for row in rows]
    facts = []
    for (cid, ref, state, severity, track, org, received, deadline, referred, persons, done, found,
         reviewed, last, since, reoffer, next_due, busy) in rows:
        pseudonyms, ages, family = _people(persons)
        facts.append(CaseFacts(cid, ref, state, severity, track, org, received, deadline, referred,  # type: ignore[arg-type]
                               pseudonyms, ages, done or 0, bool(found), reviewed, last, since, reoffer,
                               bool(busy) or since is not None, next_due, family))
    return facts


def load_disclosures(session: Session, meeting: Meeting, adhoc: bool, agenda: Agenda, since: datetime | None
                     ) -> None:
    """One query (none for an empty agenda): each case's disclosures since the previous meeting, as the
    recipient org and the categories — never a note. Read for the meeting's cases by the same filter as the
    facts (a list of thousands of ids would cost more to send than the rows it leaves out) and kept for the
    cases on the agenda."""
    ids = {item.case.id for item in agenda.items()}
    if not ids:
        return
    scope = select(Case.id).where(*_case_filter(meeting, adhoc))
    stmt = select(Disclosure.case_id, Disclosure.org, Disclosure.categories).where(col(Disclosure.case_id).in_(scope))
    if since is not None:
        stmt = stmt.where(col(Disclosure.at) > since)
    for cid, org, categories in session.exec(stmt.order_by(col(Disclosure.at), col(Disclosure.id))):
        if cid in ids:
            agenda.disclosed.setdefault(cid, []).append((org, tuple(c for c in categories.split(",") if c)))


def _people(joined: str | None) -> tuple[tuple[str, ...], tuple[str, ...], tuple[Person, ...]]:
    """`pseudonym|age|track|relation|org,…` → the pseudonyms (sorted; each is 8 characters), each one's age in
    the same order, and a family's persons in that order (none for a case with one person: the case's own
    line says it all)."""
    if not joined:
        return (), (), ()
    if "," not in joined:
        pseudonym, _, rest = joined.partition("|")
        return (pseudonym,), (rest.partition("|")[0],), ()
    persons = []
    for part in sorted(joined.split(",")):
        pseudonym, age, track, relation, org = (part.split("|") + [""] * 5)[:5]
        persons.append(Person(pseudonym, age, track or None, relation or None, org or None))
    return tuple(p.pseudonym for p in persons), tuple(p.age for p in persons), tuple(persons)


def load_late_steps(session: Session, meeting: Meeting, adhoc: bool, now: datetime) -> list[LateStep]:
    """One query: the open cases' steps flagged for the agenda, past due, neither done nor skipped, with the
    assignee's org and role (not the person). Only a handful per case, and only late ones, are read."""
    stmt = (select(CaseStep.case_id, CaseStep.n, CaseStep.title_da, CaseStep.title_en, CaseStep.responsible,
                   Member.org, Member.role, _raw(CaseStep.due_at))
            .join(Case, col(Case.id) == col(CaseStep.case_id))
            .outerjoin(Member, col(Member.id) == col(CaseStep.assignee_id))
            .where(*_case_filter(meeting, adhoc), CaseStep.state == "open", col(CaseStep.on_agenda_when_late),
                   col(CaseStep.title_ct).is_(None), col(CaseStep.due_at).is_not(None), col(CaseStep.due_at) < now))
    at = _as_is if session.get_bind().dialect.name == "postgresql" else _as_utc_text
    return [LateStep(cid, n, da, en, responsible, org, role, at(due))  # type: ignore[arg-type]
            for cid, n, da, en, responsible, org, role, due in session.connection().execute(stmt)]


def _concat(session: Session, column, distinct: bool = False):  # noqa: ANN001, ANN202
    """Comma-joined values per group; the builder sorts them, as neither engine promises an order here."""
    arg = column.distinct() if distinct else column
    if session.get_bind().dialect.name == "postgresql":
        return func.string_agg(arg, ",")
    return func.group_concat(arg)


def _split(joined: str | None) -> tuple[str, ...]:
    if not joined:
        return ()
    return (joined,) if "," not in joined else tuple(sorted(joined.split(",")))


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


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The build allocates some 10 objects per case and creates no reference cycles; a full collection of
    the process triggered half-way costs more than the build itself (measured: +30–70 ms at 10 000 cases).
    Pausing the cycle collector for that moment frees nothing late; reference counting still frees all."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_for(session: Session, meeting: Meeting, now: datetime, review_days: int = 28,
              offer_pending_days: int = 14, profile: Profile | None = None) -> Agenda:
    """Load and build one meeting's agenda (a constant number of queries)."""
    frame, previous = load_frame(session, meeting, now, review_days, offer_pending_days)
    if profile is not None:
        frame = replace(frame, checks=len(profile.checking_orgs), proposals=profile.proposals())
    edits = load_edits(session, meeting)
    with _collector_paused():
        agenda = build(load_facts(session, meeting, frame.adhoc), frame, edits, previous,
                       load_late_steps(session, meeting, frame.adhoc, now))
    load_disclosures(session, meeting, frame.adhoc, agenda, frame.previous_start)
    return agenda
