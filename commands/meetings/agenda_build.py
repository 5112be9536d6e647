"""The agenda builder (SPEC.md §3): the open cases → seven sections, and ad hoc participants to propose.

`build` is pure: facts in, agenda out, so its rules are tested without a database and it orders
deterministically; agenda_load.py reads the facts in a fixed number of queries. Only categorical
fields cross into the agenda — never a summary, note or decision text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from storage.enums import CHECKING_ORGS, SEVERITY_RANK, CaseState

SECTIONS = (1, 2, 3, 4, 5, 6, 7)
UNREFERRED = (CaseState.new.value, CaseState.qualifying.value)
PROPOSALS = (("child", "BUF"), ("adult_psych", "PSYCH"))
CHECKS = len(CHECKING_ORGS)
QUALIFYING, FOLLOW_UP = CaseState.qualifying.value, CaseState.follow_up.value


@dataclass(frozen=True, slots=True)
class Person:
    """One person of a family case on the agenda: categories and a pseudonym only."""

    pseudonym: str
    age: str
    track: str | None
    relation: str | None
    org: str | None


@dataclass(slots=True)
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
    persons: tuple[Person, ...] = ()  # a family case's persons (empty for a case with one person)


@dataclass(frozen=True)
class LateStep:
    """A procedure step flagged `on_agenda_when_late`, past its due time, neither done nor skipped. Only the
    profile's own titles and the responsible org or role cross into the agenda (never a user)."""

    case_id: int
    n: int
    title_da: str
    title_en: str
    responsible: str
    assignee_org: str | None
    assignee_role: str | None
    due_at: datetime

    def title(self, lang: str) -> str:
        return self.title_da if lang == "da" else self.title_en


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
    checks: int = CHECKS  # the unit profile's orgs that check their registers
    proposals: tuple[tuple[str, str], ...] = PROPOSALS  # the profile's (track, ad hoc org) pairs

    @property
    def review_cutoff(self) -> datetime:
        return self.meeting_start - timedelta(days=self.review_days)

    @property
    def offer_cutoff(self) -> datetime:
        return self.meeting_start - timedelta(days=self.offer_pending_days)


@dataclass(slots=True)
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
    late_steps: list[tuple[Item, list[LateStep]]] = field(default_factory=list)  # in agenda order
    disclosed: dict[int, list[tuple[str, tuple[str, ...]]]] = field(default_factory=dict)  # case id → (org, what)

    def items(self) -> list[Item]:
        return [item for s in SECTIONS for item in self.sections[s]]


def classify(c: CaseFacts, f: Frame, review_cutoff: datetime | None = None,
             offer_cutoff: datetime | None = None) -> tuple[int, str] | None:
    """The section a case belongs in by the rules, with the reason; None when it needs no discussion."""
    if c.state in UNREFERRED:
        if c.checks_done >= f.checks and not c.checks_found:
            return 6, "no_findings"  # every register checked, nothing found: a concern without substance
        if c.deadline_at <= f.now:
            return 3, "overdue"
        if c.state == QUALIFYING and c.deadline_at < f.following_start:
            return 3, "due_before_next"
        return 2, "to_qualify"
    if c.reoffer_due_at is not None and c.reoffer_due_at < f.following_start:
        return 5, "reoffer_due"
    if c.pending_offer_since is not None and c.pending_offer_since <= (offer_cutoff or f.offer_cutoff):
        return 5, "offer_pending"
    if c.state == FOLLOW_UP and not c.open_work:
        return 6, "nothing_pending"
    if (c.last_review_at or c.referred_at or c.received_at) <= (review_cutoff or f.review_cutoff):
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


def build(facts: list[CaseFacts], frame: Frame, edits: list[Edit], previous: list[Previous] | None = None,
          late: list[LateStep] | None = None) -> Agenda:
    """Pure and deterministic: the same facts, frame and edits always give the same agenda. A case with late
    flagged steps that no rule puts on the agenda comes to the review section (reason `steps_late`)."""
    late_by_case: dict[int, list[LateStep]] = {}
    for step in sorted(late or [], key=lambda s: (s.case_id, s.n)):
        late_by_case.setdefault(step.case_id, []).append(step)
    by_case = {e.case_id: e for e in edits}
    edit_order = {e.case_id: e.id for e in edits}
    agenda = Agenda(previous=list(previous or []))
    review_cutoff, offer_cutoff = frame.review_cutoff, frame.offer_cutoff
    for c in facts:
        edit = by_case.get(c.id)
        if edit is not None and edit.action == "remove":
            continue
        added = edit is not None and edit.action == "add"
        if frame.adhoc and not added:
            continue  # an ad hoc meeting discusses the cases it was called for
        found = classify(c, frame, review_cutoff, offer_cutoff)
        if found is None and c.id in late_by_case:
            found = 4, "steps_late"
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
    agenda.late_steps = [(i, late_by_case[i.case.id]) for i in agenda.items() if i.case.id in late_by_case]
    if frame.proposals:  # a family's persons on their own tracks count too
        on_track = [(i.case.ref, {i.case.track, *(p.track for p in i.case.persons)}) for i in agenda.items()]
        for track, org in frame.proposals:
            refs = tuple(ref for ref, tracks in on_track if track in tracks)
            if refs:
                agenda.proposals.append(Proposal(org, track, refs))
    return agenda
