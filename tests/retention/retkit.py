"""A case that touches every table retention must clear, and ways to look for what is left of it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from commands.context import Services
from commands.reply import Invocation, Reply
from commands.router import dispatch, submit_form
from storage.clock import FixedClock
from storage.db import unit_of_work
from storage.enums import Org, Role
from storage.models import Case, Member, Subject
from storage.pseudonym import format_pseudonym

ADMIN, SEC, MENTOR = "U_ADMIN", "U_SEC", "U_MENTOR"
PERSON_X = "150509-4123"  # in case A and in case B
PERSON_Y = "020310-4567"  # only in case A


def ok(svc: Services, text: str, user: str = ADMIN) -> Reply:
    reply = dispatch(svc, Invocation(user_id=user, text=text, platform="console"))
    assert reply.ok, f"{text!r} → {reply.text}"
    return reply


def confirmed(svc: Services, text: str, user: str = ADMIN) -> Reply:
    """A command that may ask first (commands.confirm): answered yes when it asks."""
    reply = ok(svc, text, user)
    yes = [b.command for b in reply.buttons if b.action_id == "confirm.yes"]
    return ok(svc, yes[0], user) if yes else reply


def seed(svc: Services) -> None:
    with unit_of_work(svc.engine) as session:
        for user, role, org in ((ADMIN, Role.admin, Org.BIF), (SEC, Role.secretariat, Org.BIF),
                                (MENTOR, Role.mentor, Org.OTHER)):
            session.add(Member(user_id=user, platform="console", role=role.value, org=org.value, display_name=user,
                               created_at=svc.clock.now()))


def intake(svc: Services, summary: str, identifiers: list[str], *, track: str = "child", age: str = "15-17") -> str:
    values = {"severity": "high", "track": track, "source": "school", "district": "Nørrebro", "basis": "rpl115",
              "summary": summary}
    for n, ident in enumerate(identifiers, start=1):
        values[f"subject{n}_age"] = age
        values[f"subject{n}_identifier"] = ident
    result = submit_form(svc, Invocation(user_id=ADMIN, text="", platform="console"), "concern.intake", values)
    assert result.reply is not None and result.reply.ok, result
    found = re.search(r"KE-\d{4}-\d{4}", result.reply.text)
    assert found is not None
    return found.group(0)


def subjects(svc: Services, ref: str) -> list[str]:
    with unit_of_work(svc.engine) as session:
        case = session.exec(select(Case).where(Case.ref == ref)).one()
        return list(session.exec(select(Subject.pseudonym).where(Subject.case_id == case.id)
                                 .order_by(Subject.id)))  # type: ignore[arg-type]


@dataclass
class Rich:
    """Case A with everything: two subjects (X, Y), a note, an offer, an engagement and its log, a follow-up with
    text, a minutes decision; closed as completed. Case B: person X again, left open."""

    ref: str = ""
    other: str = ""
    pseudonyms: list[str] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)

    @property
    def x(self) -> str:
        return self.pseudonyms[0]

    @property
    def y(self) -> str:
        return self.pseudonyms[1]


def rich_case(svc: Services, clock: FixedClock, tag: str = "A") -> Rich:
    r = Rich(secrets={k: f"{k} hemmelig tekst {tag} zq{n}" for n, k in enumerate(
        ("summary", "note", "log", "followup", "minute", "hold", "other_summary"))})
    r.ref = intake(svc, r.secrets["summary"], [PERSON_X, PERSON_Y])
    r.pseudonyms = subjects(svc, r.ref)
    x = format_pseudonym(r.x)
    ok(svc, f"case qualify {r.ref} level=preventive")
    ok(svc, f"case refer {r.ref} to=SOF")
    ok(svc, f'case note {r.ref} "{r.secrets["note"]}"')
    ok(svc, f"case offer {r.ref} subject={x} kind=mentor")
    ok(svc, f"case respond {r.ref} subject={x} kind=mentor accepted")
    ok(svc, f"case assign {r.ref} subject={x} kind=mentor mentor=<@{MENTOR}>")
    ok(svc, f'mentor log {r.ref} subject={x} "{r.secrets["log"]}"', user=MENTOR)
    ok(svc, f'followup add {r.ref} due="2027-01-10 10:00" "{r.secrets["followup"]}"')
    reply = ok(svc, f'meeting adhoc when="2026-11-24 10:00" duration=60m topic="Ekstra møde" cases={r.ref}')
    meeting = re.search(r"M-\d{4}-\d{3}", reply.text)
    assert meeting is not None
    ok(svc, f"agenda publish {meeting.group(0)}")  # frozen as sent: it lists the case
    ok(svc, f'minutes {r.ref} "{r.secrets["minute"]}" meeting={meeting.group(0)}')
    today = clock.instant
    at(clock, "2026-11-24 10:30")
    ok(svc, f"meeting close {meeting.group(0)}")  # the minutes, frozen with the decision
    clock.instant = today  # the rest of the case's course keeps its dates (closed 23 November)
    ok(svc, f"mentor end {r.ref} subject={x} result=completed")
    confirmed(svc, f"case close {r.ref} reason=completed")  # it asks: the follow-up with text is cancelled
    r.other = intake(svc, r.secrets["other_summary"], [PERSON_X])
    return r


def at(clock: FixedClock, text: str) -> datetime:
    """Local Copenhagen time → the clock's UTC instant."""
    from zoneinfo import ZoneInfo

    clock.instant = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/Copenhagen")).astimezone(UTC)
    return clock.instant


def sqlite_bytes(db_url: str) -> bytes:
    """The database file and its write-ahead log, as they lie on disk."""
    path = Path(db_url.removeprefix("sqlite:///"))
    data = path.read_bytes()
    for suffix in ("-wal", "-journal"):
        extra = Path(str(path) + suffix)
        if extra.exists():
            data += extra.read_bytes()
    return data
