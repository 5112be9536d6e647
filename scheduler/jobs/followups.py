"""The sweep: as of one instant, turn due follow-ups into outbox messages, in the same transaction.

Safe with several workers: on PostgreSQL the due rows are locked with FOR UPDATE SKIP LOCKED; on SQLite
every write transaction starts with BEGIN IMMEDIATE, so sweeps run one after another. A follow-up whose
reminder time passed during downtime is reminded once, then rescheduled from `now` (catch-up, no replay).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from commands import access
from commands.context import Services
from commands.followups.rules import CHECKIN_AFTER, LIVE, mark
from commands.messages import label, t
from commands.reply import Button, Reply
from commands.time import timefmt
from storage import metrics, outbox, sealed
from storage.db import unit_of_work
from storage.enums import Role
from storage.models import Case, FollowUp, Member, Offer, Subject
from storage.pseudonym import format_pseudonym

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    reminded: int = 0
    deferred: int = 0
    erased: int = 0  # cases erased by the retention job in the same tick


def followup_buttons(lang: str, followup: FollowUp, case: Case) -> list[Button]:
    ref, fid = case.ref, f"F-{followup.id}"
    buttons = [] if followup.kind == "visitation" else [
        Button(t(lang, "button.done"), "followup.done", fid, f"followup done {fid}", style="primary")]
    return buttons + [
        Button(t(lang, "button.snooze_day"), "followup.snooze_day", fid, f"followup snooze {fid} 1d"),
        Button(t(lang, "button.snooze_week"), "followup.snooze_week", fid, f"followup snooze {fid} 1w"),
        Button(t(lang, "button.open_case"), "case.show", ref, f"case show {ref}"),
    ]


DUE_COLUMNS = ("id", "kind", "case_id", "subject_id", "offer_id", "assignee_id", "due_at", "notify_at", "stage",
               "state", "urgent", "text_ct", "text_kid", "reminders_sent", "last_sent_at", "last_message_id",
               "updated_at")
WRITTEN = ("notify_at", "stage", "state", "reminders_sent", "last_sent_at", "last_message_id", "updated_at")


class Due:
    """A due follow-up as the sweep reads and moves it: plain attributes (the ORM's per-attribute bookkeeping
    cost more than the rest of a sweep), written back in one UPDATE per batch."""

    __slots__ = DUE_COLUMNS

    def __init__(self, row: Any) -> None:
        for name, value in zip(DUE_COLUMNS, row, strict=True):
            setattr(self, name, value)


class _Sweeper:
    def __init__(self, svc: Services, session: Session, now: datetime) -> None:
        self.svc, self.session, self.now = svc, session, now
        self.cal = svc.calendar(session)  # the unit profile's, read per batch: an import applies at once
        self.lang = self.cal.lang
        self.cases: dict[int, Case] = {}
        self.members: dict[int, Member] = {}
        self.subjects: dict[int, Subject] = {}
        self.offers: dict[int, Offer] = {}
        self.visible: set[tuple[int, int]] = set()
        self._secretariat: list[str] | None = None
        self._queued: list[tuple[str, str, str, str]] = []  # (target kind, target, payload, dedupe key)
        self._single_dms: list[tuple[Due, int]] = []  # a follow-up and its one DM's place in `_queued`
        self._formatted: dict[tuple[str, datetime], str] = {}

    def preload(self, rows: list[Due]) -> None:
        """Everything the batch refers to, in four queries (a constant count, whatever the batch size)."""
        def load(model, ids: set[int | None]) -> dict:  # noqa: ANN001
            wanted = {i for i in ids if i is not None}
            if not wanted:
                return {}
            return {r.id: r for r in self.session.exec(select(model).where(col(model.id).in_(wanted)))}

        self.cases = load(Case, {r.case_id for r in rows})
        self.members = load(Member, {r.assignee_id for r in rows})
        self.subjects = load(Subject, {r.subject_id for r in rows})
        self.offers = load(Offer, {r.offer_id for r in rows})
        self.visible = access.visible_among(self.session, list(self.members.values()), set(self.cases))

    def secretariat(self) -> list[str]:
        if self._secretariat is None:
            self._secretariat = list(self.session.exec(select(Member.user_id).where(
                Member.role == Role.secretariat, Member.active == True).order_by(col(Member.user_id))))  # noqa: E712
        return self._secretariat

    def queue_messages(self) -> None:
        """The batch's messages in one INSERT; each single DM's outbox row is remembered on its follow-up, so
        done/snooze can update it in place."""
        ids = outbox.enqueue_many(self.session, clock=self.svc.clock, vault=self.svc.vault, messages=self._queued)
        for followup, place in self._single_dms:
            followup.last_message_id = ids[place]

    def write(self, rows: list[Due]) -> None:
        """Every row of the batch as it now stands, in one UPDATE (executemany)."""
        if not rows:
            return
        table = FollowUp.__table__  # type: ignore[attr-defined]
        stmt = (update(table).where(table.c.id == bindparam("row_id"))
                .values({name: bindparam(f"new_{name}") for name in WRITTEN}))
        self.session.execute(stmt, [{"row_id": r.id, **{f"new_{n}": getattr(r, n) for n in WRITTEN}} for r in rows])

    def formatted(self, how: str, instant: datetime) -> str:
        """A date as the DM shows it; the batch's rows share their cases' deadlines and due days."""
        key = (how, instant)
        if key not in self._formatted:
            local = self.cal.local(instant)
            self._formatted[key] = timefmt.when(local, self.lang) if how == "when" else timefmt.day(local, self.lang)
        return self._formatted[key]

    def t(self, key: str, **kw: object) -> str:
        return t(self.lang, key, **kw)

    def word(self, kind: str, code: str) -> str:
        return label(self.lang, kind, code)

    def _enqueue(self, kind: str, target: str, reply: Reply, key: str) -> int:
        self._queued.append((kind, target, reply.to_json(), key))
        return len(self._queued) - 1

    def _recipients(self, followup: Due) -> list[str]:
        """The assignee, while they may see the case (the one access rule: an engagement that ended or a step
        given to someone without the case sends nothing to them); otherwise the secretariat."""
        member = self.members.get(followup.assignee_id) if followup.assignee_id is not None else None
        if member is not None and member.active and (member.id, followup.case_id) in self.visible:
            return [member.user_id]
        return self.secretariat()

    def dm(self, followup: Due, case: Case, text: str, first: list[Button] | None = None,
           details: bool = False) -> None:
        reply = Reply(text=text, title=f"F-{followup.id} · {case.ref}",
                      buttons=[*(first or []), *followup_buttons(self.lang, followup, case)], details=details)
        recipients = self._recipients(followup)
        key = f"fu:{followup.id}:{followup.reminders_sent}"
        if not recipients:
            self._enqueue("channel", "secretariat", Reply(text=text, title=reply.title), key + ":channel")
        places = [self._enqueue("user", user, reply, f"{key}:{user}") for user in recipients]
        followup.last_message_id = None
        if len(places) == 1:
            self._single_dms.append((followup, places[0]))

    def remind(self, followup: Due) -> None:
        case = self.cases[followup.case_id]
        subject = self.subjects.get(followup.subject_id) if followup.subject_id else None
        pseudonym = format_pseudonym(subject.pseudonym) if subject else "—"
        deadline = self.formatted("when", case.deadline_at)
        due = self.formatted("day", followup.due_at)
        kind = followup.kind
        if kind == "visitation":
            self._visitation(followup, case, deadline)
            return
        if kind == "mentor_checkin":
            self.dm(followup, case, self.t("followup.mentor_checkin", ref=case.ref, subject=pseudonym))
            mark(followup, "sent", self.now, self.now + CHECKIN_AFTER)
        elif kind == "reoffer":
            self._reoffer(followup, case, subject, pseudonym, due)
            mark(followup, "sent", self.now)
        else:
            text = ""
            if followup.text_ct is not None and followup.text_kid is not None:
                text = self.svc.vault.decrypt(self.session, followup.text_ct, followup.text_kid,
                                              sealed.FOLLOWUP_TEXT.label)
            self.dm(followup, case, self.t(f"followup.{kind}", ref=case.ref, subject=pseudonym, due=due,
                                           stage=followup.stage, text=text), details=bool(text))
            mark(followup, "sent", self.now)

    def _reoffer(self, followup: Due, case: Case, subject: Subject | None, pseudonym: str, due: str) -> None:
        """Names the person and the offer in words, with a button that makes the offer again."""
        offer = self.offers.get(followup.offer_id) if followup.offer_id is not None else None
        kind = offer.kind if offer is not None else ""
        months = (followup.stage or "").removesuffix("m")
        text = self.t("followup.reoffer", ref=case.ref, subject=pseudonym, due=due, months=months,
                      offer=self.word("offer_kind", kind) if kind else "—")
        again = ([Button(self.t("button.offer_again"), "case.offer", case.ref,
                         f"case offer {case.ref} subject={pseudonym} kind={kind}", style="primary")]
                 if subject is not None and kind else [])
        self.dm(followup, case, text, again)

    def _visitation(self, followup: Due, case: Case, deadline: str) -> None:
        overdue = self.now >= case.deadline_at
        if followup.stage == "warn" and not overdue:
            left = timefmt.duration(case.deadline_at - self.now, self.lang)
            self.dm(followup, case, self.t("followup.visitation_warn_in", ref=case.ref, deadline=deadline,
                                           duration=left, severity=self.word("severity", case.severity)))
            mark(followup, "pending", self.now, case.deadline_at)
            followup.stage = "overdue"
            return
        late = self.now - case.deadline_at
        key = "followup.visitation_overdue_by" if late >= timedelta(hours=1) else "followup.visitation_overdue_now"
        reply = Reply(text=self.t(key, ref=case.ref, deadline=deadline, duration=timefmt.duration(late, self.lang),
                                  severity=self.word("severity", case.severity)),
                      buttons=[Button(self.t("button.open_case"), "case.show", case.ref, f"case show {case.ref}")])
        self._enqueue("channel", "secretariat", reply, f"fu:{followup.id}:{followup.reminders_sent}:overdue")
        mark(followup, "pending", self.now, self.cal.next_working_morning(self.now))
        followup.stage = "daily"

    def due_rows(self, batch: int) -> list[Due]:
        table = FollowUp.__table__  # type: ignore[attr-defined]
        stmt = (select(*(table.c[name] for name in DUE_COLUMNS))
                .where(table.c.state.in_(LIVE), table.c.notify_at.is_not(None), table.c.notify_at <= self.now)
                .order_by(table.c.notify_at, table.c.id).limit(batch))
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return [Due(row) for row in self.session.execute(stmt)]


def sweep(svc: Services, now: datetime, batch: int = 500) -> SweepResult:
    """One sweep as of `now` (aware UTC). Returns how many follow-ups were reminded or deferred."""
    result = SweepResult()
    while True:
        with unit_of_work(svc.engine) as session:
            sweeper = _Sweeper(svc, session, now)
            rows = sweeper.due_rows(batch)
            sweeper.preload(rows)
            working = sweeper.cal.delivery_time(now)  # the same instant for every row of the batch
            for followup in rows:
                when = followup.notify_at if followup.urgent else working
                assert when is not None
                if when > now:
                    followup.notify_at, followup.updated_at = when, now  # outside working hours: wait
                    result.deferred += 1
                else:
                    sweeper.remind(followup)
                    followup.reminders_sent += 1
                    followup.last_sent_at = now
                    result.reminded += 1
            sweeper.queue_messages()
            sweeper.write(rows)
        if len(rows) < batch:
            break
    if result.reminded:
        log.info("sweep at %s: %d reminded, %d deferred", now.isoformat(), result.reminded, result.deferred)
    return result


def timed_sweep(svc: Services, now: datetime) -> SweepResult:
    """The sweep, with its duration and reminders counted for /metrics."""
    with metrics.Timer() as timer:
        result = sweep(svc, now)
    metrics.swept(timer.seconds, result.reminded, now)
    return result


def sweep_now(svc: Services) -> SweepResult:
    """The worker's job: one sweep as of the service clock (a module-level function, so it can be sent to a
    work process)."""
    return sweep(svc, svc.clock.now())
