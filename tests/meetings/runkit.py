"""The meeting run, typed: the reference the button runs (Slack, Teams) are compared with."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from commands.context import Services
from commands.meetings import published
from commands.reply import Invocation
from commands.router import dispatch
from storage.models import Attendance, FollowUp, Meeting, MeetingOutcome, Member

ADMIN, SSP, POL = "UADMIN", "USSP", "UPOL"


def setup(ssp: str = SSP, pol: str = POL) -> tuple[str, ...]:
    return (f'unit add <@{ssp}> role=member org=SSP name="Sara SSP"',
            f'unit add <@{pol}> role=member org=POLICE name="Per Politi"', *SETUP)


def typed_run(admin: str = ADMIN, ssp: str = SSP) -> tuple[str, ...]:
    return (f'minutes KE-2026-0001 "{DECISION}" due=2026-12-20 owner=<@{ssp}> meeting=M-2026-001',
            "agenda postpone M-2026-001 KE-2026-0002",
            f"meeting attendance M-2026-001 <@{admin}> <@{ssp}>",
            "meeting close M-2026-001")


SETUP = (
    'concern new severity=high track=child age=15-17 source=school district=Valby basis=rpl115 '
    'summary="Udtaler støtte til IS"',
    'concern new severity=normal track=adult age=25+ source=police district=Valby basis=rpl115 '
    'summary="Deler propaganda"',
    'meeting adhoc when="2026-11-23 11:00" duration=60m topic="Koordinering" cases=KE-2026-0001,KE-2026-0002',
    'meeting adhoc when="2026-11-30 11:00" duration=60m topic="Næste"',
)
DECISION = "Skolen inddrages i et netværksmøde"


def typed(svc: Services, *lines: str, admin: str = ADMIN, name: str = "uadmin") -> None:
    for line in lines:
        reply = dispatch(svc, Invocation(admin, line, display_name=name))
        assert reply.ok, (line, reply.text)


def outcome(svc: Services) -> dict[str, Any]:
    """What the run leaves: the minutes as frozen, the follow-ups, postponements and attendance."""
    with Session(svc.engine) as session:
        meeting = session.exec(select(Meeting).where(Meeting.ref == "M-2026-001")).one()
        frozen = published.latest(svc, session, meeting, "minutes")
        names = {m.id: m.user_id for m in session.exec(select(Member))}
        followups = [(f.kind, f.case_id, names.get(f.assignee_id), f.due_at, f.state)
                     for f in session.exec(select(FollowUp).where(FollowUp.kind == "custom")
                                           .order_by(col(FollowUp.id)))]
        outcomes = [(o.case_id, o.outcome, o.to_meeting_id) for o in session.exec(select(MeetingOutcome))]
        present = sorted(names[a.member_id] for a in session.exec(select(Attendance)))
    assert frozen is not None
    return {"minutes": frozen.text, "markdown": frozen.markdown, "followups": followups, "outcomes": outcomes,
            "present": present}
