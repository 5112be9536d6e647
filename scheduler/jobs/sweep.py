"""The sweep: as of one instant, turn due follow-ups into outbox messages, in the same transaction.

Safe with several workers: on PostgreSQL the due rows are locked with FOR UPDATE SKIP LOCKED; on SQLite
every write transaction starts with BEGIN IMMEDIATE, so sweeps run one after another. A follow-up whose
reminder time passed during downtime is reminded once, then rescheduled from `now` (catch-up, no replay).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from commands import timefmt
from commands.context import Services
from commands.followups.rules import CHECKIN_AFTER, FOLLOWUP_TEXT_AAD, LIVE, mark
from commands.messages import label, t
from commands.reply import Button, Reply
from storage import outbox
from storage.db import unit_of_work
from storage.enums import Role
from storage.models import Case, FollowUp, Member, OutboxMessage, Subject
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


class _Sweeper:
    def __init__(self, svc: Services, session: Session, now: datetime) -> None:
        self.svc, self.session, self.now = svc, session, now
        self.cal = svc.calendar(session)  # the unit profile's, read per batch: an import applies at once
        self.lang = self.cal.lang
        self.cases: dict[int, Case] = {}
        self.members: dict[int, Member] = {}
        self.subjects: dict[int, Subject] = {}
        self._secretariat: list[str] | None = None
        self._single_dms: list[tuple[FollowUp, OutboxMessage]] = []

    def preload(self, rows: list[FollowUp]) -> None:
        """Everything the batch refers to, in three queries (a constant count, whatever the batch size)."""
        def load(model, ids: set[int | None]) -> dict:  # noqa: ANN001
            wanted = {i for i in ids if i is not None}
            if not wanted:
                return {}
            return {r.id: r for r in self.session.exec(select(model).where(col(model.id).in_(wanted)))}

        self.cases = load(Case, {r.case_id for r in rows})
        self.members = load(Member, {r.assignee_id for r in rows})
        self.subjects = load(Subject, {r.subject_id for r in rows})

    def secretariat(self) -> list[str]:
        if self._secretariat is None:
            self._secretariat = list(self.session.exec(select(Member.user_id).where(
                Member.role == Role.secretariat, Member.active == True).order_by(col(Member.user_id))))  # noqa: E712
        return self._secretariat

    def link_messages(self) -> None:
        """After one flush, remember each single DM's outbox row so done/snooze can update it in place."""
        self.session.flush()
        for followup, row in self._single_dms:
            followup.last_message_id = row.id
            self.session.add(followup)

    def t(self, key: str, **kw: object) -> str:
        return t(self.lang, key, **kw)

    def word(self, kind: str, code: str) -> str:
        return label(self.lang, kind, code)

    def _enqueue(self, kind: str, target: str, reply: Reply, key: str) -> OutboxMessage | None:
        return outbox.enqueue(self.session, clock=self.svc.clock, vault=self.svc.vault, target_kind=kind,
                              target=target, payload=reply.to_json(), dedupe_key=key, check_duplicate=False,
                              flush=False)

    def _recipients(self, followup: FollowUp) -> list[str]:
        member = self.members.get(followup.assignee_id) if followup.assignee_id is not None else None
        if member is not None and member.active:
            return [member.user_id]
        return self.secretariat()

    def dm(self, followup: FollowUp, case: Case, text: str, details: bool = False) -> None:
        reply = Reply(text=text, title=f"F-{followup.id} · {case.ref}",
                      buttons=followup_buttons(self.lang, followup, case), details=details)
        recipients = self._recipients(followup)
        key = f"fu:{followup.id}:{followup.reminders_sent}"
        if not recipients:
            self._enqueue("channel", "secretariat", Reply(text=text, title=reply.title), key + ":channel")
        rows = [self._enqueue("user", user, reply, f"{key}:{user}") for user in recipients]
        followup.last_message_id = None
        if len(rows) == 1 and rows[0] is not None:
            self._single_dms.append((followup, rows[0]))

    def remind(self, followup: FollowUp) -> None:
        case = self.cases[followup.case_id]
        subject = self.subjects.get(followup.subject_id) if followup.subject_id else None
        pseudonym = format_pseudonym(subject.pseudonym) if subject else "—"
        deadline = timefmt.when(self.cal.local(case.deadline_at), self.lang)
        due = timefmt.day(self.cal.local(followup.due_at), self.lang)
        kind = followup.kind
        if kind == "visitation":
            self._visitation(followup, case, deadline)
            return
        if kind == "mentor_checkin":
            self.dm(followup, case, self.t("followup.mentor_checkin", ref=case.ref, subject=pseudonym))
            mark(followup, "sent", self.now, self.now + CHECKIN_AFTER)
        else:
            text = ""
            if followup.text_ct is not None and followup.text_kid is not None:
                text = self.svc.vault.decrypt(self.session, followup.text_ct, followup.text_kid, FOLLOWUP_TEXT_AAD)
            self.dm(followup, case, self.t(f"followup.{kind}", ref=case.ref, subject=pseudonym, due=due,
                                           stage=followup.stage, text=text), details=bool(text))
            mark(followup, "sent", self.now)

    def _visitation(self, followup: FollowUp, case: Case, deadline: str) -> None:
        overdue = self.now >= case.deadline_at
        if followup.stage == "warn" and not overdue:
            hours = int((case.deadline_at - self.now).total_seconds() // 3600)
            self.dm(followup, case, self.t("followup.visitation_warn", ref=case.ref, deadline=deadline, hours=hours,
                                           severity=self.word("severity", case.severity)))
            mark(followup, "pending", self.now, case.deadline_at)
            followup.stage = "overdue"
            return
        days = (self.now - case.deadline_at).days
        reply = Reply(text=self.t("followup.visitation_overdue", ref=case.ref, deadline=deadline, days=days,
                                  severity=self.word("severity", case.severity)),
                      buttons=[Button(self.t("button.open_case"), "case.show", case.ref, f"case show {case.ref}")])
        self._enqueue("channel", "secretariat", reply, f"fu:{followup.id}:{followup.reminders_sent}:overdue")
        mark(followup, "pending", self.now, self.cal.next_working_morning(self.now))
        followup.stage = "daily"

    def due_rows(self, batch: int) -> list[FollowUp]:
        stmt = (select(FollowUp)
                .where(col(FollowUp.state).in_(LIVE), col(FollowUp.notify_at).is_not(None),
                       col(FollowUp.notify_at) <= self.now)
                .order_by(col(FollowUp.notify_at), col(FollowUp.id)).limit(batch))
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return list(self.session.exec(stmt))


def sweep(svc: Services, now: datetime, batch: int = 500) -> SweepResult:
    """One sweep as of `now` (aware UTC). Returns how many follow-ups were reminded or deferred."""
    result = SweepResult()
    while True:
        with unit_of_work(svc.engine) as session:
            sweeper = _Sweeper(svc, session, now)
            rows = sweeper.due_rows(batch)
            sweeper.preload(rows)
            for followup in rows:
                when = followup.notify_at if followup.urgent else sweeper.cal.delivery_time(now)
                assert when is not None
                if when > now:
                    followup.notify_at, followup.updated_at = when, now  # outside working hours: wait
                    result.deferred += 1
                else:
                    sweeper.remind(followup)
                    followup.reminders_sent += 1
                    followup.last_sent_at = now
                    result.reminded += 1
                session.add(followup)
            sweeper.link_messages()
        if len(rows) < batch:
            break
    if result.reminded:
        log.info("sweep at %s: %d reminded, %d deferred", now.isoformat(), result.reminded, result.deferred)
    return result


def sweep_now(svc: Services) -> SweepResult:
    """The worker's job: one sweep as of the service clock (a module-level function, so it can be sent to a
    work process)."""
    return sweep(svc, svc.clock.now())
