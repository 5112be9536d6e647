"""The case row keeps its timeline's last entry and last status review (`Case.last_event_at`, `Case.reviewed_at`,
written by `record.stamp` with every event) so the agenda does not aggregate the events: after the usual
changes — a new case, its qualification and referral, a decision in the minutes, a note, an event written
while the clock reads earlier than the last one, cases taken over from a file with their imported dates,
an erasure — they equal what the events say."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, func, select

from commands.context import Services
from commands.retention import erase
from storage.db import unit_of_work
from storage.enums import REVIEW_EVENTS
from storage.models import Case, CaseEvent
from tests.commands.takeover_files import csv_bytes, fixed_rows
from tests.meetings.mtkit import SERIES, concern, local, ok, seed

pytestmark = pytest.mark.procedures_off

Stamps = dict[str, tuple[datetime | None, datetime | None]]


def stored(svc: Services) -> Stamps:
    with unit_of_work(svc.engine) as session:
        return {c.ref: (c.last_event_at, c.reviewed_at) for c in session.exec(select(Case))}


def from_events(svc: Services) -> Stamps:
    """What the timeline says: each case's last event, and its last review (None for a case without)."""
    with unit_of_work(svc.engine) as session:
        last = dict(session.exec(select(Case.ref, func.max(col(CaseEvent.at))).outerjoin(
            CaseEvent, col(CaseEvent.case_id) == col(Case.id)).group_by(col(Case.ref))).all())
        reviewed = dict(session.exec(select(Case.ref, func.max(col(CaseEvent.at))).join(
            CaseEvent, col(CaseEvent.case_id) == col(Case.id)).where(col(CaseEvent.kind).in_(REVIEW_EVENTS))
            .group_by(col(Case.ref))).all())
    return {ref: (last[ref], reviewed.get(ref)) for ref in last}  # MAX keeps the column's type: aware UTC


def a_unit_at_work(svc: Services, tmp_path: Path) -> list[str]:
    """Cases made, moved, decided on, noted, taken over and erased through the use cases; their references."""
    seed(svc)
    ok(svc, SERIES.format(policy="skip"))
    a, b, c = concern(svc), concern(svc, severity="normal", track="adult_psych", age="25+"), concern(svc)
    ok(svc, f"case qualify {a} level=preventive")
    ok(svc, f"case refer {a} to=SOF owner=SSP1")
    svc.clock.instant = local(2026, 11, 26, 9, 15)  # the first meeting is on
    ok(svc, f'minutes {a} "Mentor tilbydes; skolen orienteres"')
    ok(svc, f'minutes {b} "Status igen om en måned"')
    svc.clock.instant += timedelta(hours=2)
    ok(svc, f'case note {a} "Skolen er orienteret"')  # a later entry that is no review
    svc.clock.instant -= timedelta(days=1)  # a clock that reads earlier: the stamps stay at the latest
    ok(svc, f'case note {b} "Ringet til skolen"')
    ok(svc, f"case qualify {c} level=preventive")
    path = tmp_path / "sager.csv"
    path.write_bytes(csv_bytes(fixed_rows()))
    assert "29 cases taken over" in ok(svc, f"unit import cases path={path}", user="ADMIN").text
    assert erase.erase_due(svc, svc.clock.now())  # two imported cases closed long ago: tombstones
    return [a, b, c]


def test_the_stamps_on_the_case_row_are_what_the_events_say(svc: Services, tmp_path: Path) -> None:
    a, b, c = a_unit_at_work(svc, tmp_path)
    now, events = stored(svc), from_events(svc)
    assert now == events
    assert len(now) == 32 and now[a][1] is not None and now[b][1] is not None and now[c][1] is None
    assert now[a][0] > now[a][1]  # the note came after the decision
    assert sum(last is None for last, _ in now.values()) == 2  # the tombstones: no timeline left
    with unit_of_work(svc.engine) as session:
        taken = session.exec(select(Case).where(col(Case.taken_over_at).is_not(None),
                                                col(Case.erased_at).is_(None))).first()
        assert taken is not None and taken.last_event_at == taken.taken_over_at  # its "taken_over" entry
