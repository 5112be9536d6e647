"""Helpers for the meeting tests: members, commands, local times, reading meetings and the outbox back."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from commands.context import Services
from commands.reply import Invocation, Reply
from commands.router import dispatch
from storage import outbox
from storage.db import unit_of_work
from storage.models import Meeting, Member, OutboxMessage

CPH = ZoneInfo("Europe/Copenhagen")
MEMBERS = (("ADMIN", "admin", "BIF"), ("SEC", "secretariat", "BIF"), ("SSP1", "member", "SSP"),
           ("POL1", "member", "POLICE"), ("BUF1", "adhoc", "BUF"), ("PSY1", "adhoc", "PSYCH"),
           ("MENTOR", "mentor", "OTHER"))
SERIES = ('meeting series add name="Koordineringsmøde" rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH" time=09:00 '
          "duration=90m holidays={policy}")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=CPH).astimezone(UTC)


def seed(svc: Services) -> None:
    with unit_of_work(svc.engine) as session:
        for user_id, role, org in MEMBERS:
            session.add(Member(user_id=user_id, platform="console", role=role, org=org, display_name=user_id,
                               created_at=svc.clock.now()))


def say(svc: Services, text: str, user: str = "SEC") -> Reply:
    return dispatch(svc, Invocation(user, text))


def ok(svc: Services, text: str, user: str = "SEC") -> Reply:
    reply = say(svc, text, user)
    assert reply.ok, f"{text!r} → {reply.text}"
    return reply


def concern(svc: Services, severity: str = "high", track: str = "child", age: str = "15-17",
            received: str | None = None, user: str = "SEC") -> str:
    extra = f' received="{received}"' if received else ""
    reply = ok(svc, f"concern new severity={severity} track={track} age={age} source=school district=Valby "
                    f'basis=rpl115 summary="Udtaler støtte til voldelig ekstremisme"{extra}', user)
    return next(w.rstrip(".") for w in reply.text.split() if w.startswith("KE-"))


def meetings(svc: Services) -> list[Meeting]:
    with unit_of_work(svc.engine) as session:
        return list(session.exec(select(Meeting).order_by(col(Meeting.starts_at), col(Meeting.id))))


def meeting(svc: Services, ref: str) -> Meeting:
    with unit_of_work(svc.engine) as session:
        return session.exec(select(Meeting).where(Meeting.ref == ref)).one()


def last_outbox_id(svc: Services) -> int:
    with unit_of_work(svc.engine) as session:
        return session.exec(select(OutboxMessage.id).order_by(col(OutboxMessage.id).desc())).first() or 0


def queued(svc: Services, after: int = 0) -> list[tuple[str, str, Reply]]:
    """(target_kind, target, reply) of every outbox row after `after`."""
    with Session(svc.engine) as session:
        rows = session.exec(select(OutboxMessage).where(col(OutboxMessage.id) > after)
                            .order_by(col(OutboxMessage.id)))
        return [(r.target_kind, r.target, Reply.from_json(outbox.payload(session, svc.vault, r))) for r in rows]


def rendered(reply: Reply) -> str:
    """Everything a platform shows of a reply, attachments' names included."""
    parts = [reply.title or "", reply.text, *(f"{f.label} {f.value}" for f in reply.fields),
             *(f"{b.label} {b.command}" for b in reply.buttons), *(a.filename for a in reply.attachments)]
    return "\n".join(parts)


def pseudonym_of(svc: Services, ref: str) -> str:
    from storage.models import Case, Subject
    from storage.pseudonym import format_pseudonym

    with unit_of_work(svc.engine) as session:
        case = session.exec(select(Case).where(Case.ref == ref)).one()
        stored = session.exec(select(Subject.pseudonym).where(Subject.case_id == case.id)).first() or ""
        return format_pseudonym(stored) if stored else ""  # as the bot shows it and a member types it


def bulk_cases(svc: Services, count: int, start: int = 1) -> None:
    """`count` open cases in every open state, with subjects, events, checks, offers and follow-ups — inserted
    directly (fast), shaped like what the use cases write."""
    from datetime import timedelta

    from sqlalchemy import insert

    from storage.models import Case, CaseCheck, CaseEvent, FollowUp, Offer, Subject

    now = svc.clock.now()
    states = ("new", "qualifying", "referred", "active", "follow_up")
    tracks = ("child", "adult", "adult_psych", "crime")
    with unit_of_work(svc.engine) as session:
        cases = [{"ref": f"KE-2026-{start + i:04d}", "state": states[i % 5], "severity": ("critical", "high",
                  "normal")[i % 3], "track": tracks[i % 4], "source": "school", "district": "Valby",
                  "basis": "rpl115", "indicators": "", "received_at": now - timedelta(days=i % 60),
                  "deadline_at": now - timedelta(days=i % 60) + timedelta(hours=48),
                  "referred_at": None if i % 5 < 2 else now - timedelta(days=i % 40),
                  "responsible_org": None if i % 5 < 2 else "SOF", "created_at": now, "updated_at": now,
                  # its events' last (below), kept on the row as record.stamp does
                  "last_event_at": max(now - timedelta(days=(i + e * 7) % 50) for e in range(2))}
                 for i in range(count)]
        session.execute(insert(Case), cases)
        ids = dict(session.exec(select(Case.ref, Case.id).where(col(Case.ref).in_([c["ref"] for c in cases]))).all())
        subjects, events, checks, offers, followups = [], [], [], [], []
        for i, c in enumerate(cases):
            cid = ids[c["ref"]]
            for s in range(1 + i % 2):
                subjects.append({"case_id": cid, "pseudonym": f"{i:04d}{s:04d}"[-8:], "age_band": "15-17",
                                 "linked": False, "possible_repeat": False, "created_at": now})
            for e in range(2):
                events.append({"case_id": cid, "at": now - timedelta(days=(i + e * 7) % 50), "kind": "state",
                               "data": "{}"})
            for org in ("SSP", "VINK", "POLICE", "KRIM", "SOF", "EKP")[: i % 7]:
                checks.append({"case_id": cid, "org": org, "found": i % 3 == 0, "at": now})
            if c["state"] in ("referred", "follow_up") and i % 2:
                followups.append({"kind": "reoffer", "case_id": cid, "due_at": now + timedelta(days=i % 30),
                                  "stage": "3m", "state": "pending", "urgent": False, "reminders_sent": 0,
                                  "created_at": now, "updated_at": now})
            if c["state"] == "referred" and i % 3 == 0:
                offers.append({"case_id": cid, "kind": "mentor", "state": "pending", "consent": False,
                               "offered_at": now - timedelta(days=i % 30)})
        session.execute(insert(Subject), subjects)
        session.execute(insert(CaseEvent), events)
        if checks:
            session.execute(insert(CaseCheck), checks)
        if offers:
            subject_of = dict(session.exec(select(Subject.case_id, Subject.id)).all())
            for offer in offers:
                offer["subject_id"] = subject_of[offer["case_id"]]
            session.execute(insert(Offer), offers)
        if followups:
            session.execute(insert(FollowUp), followups)
