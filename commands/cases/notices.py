"""Channel notices that follow their case: when a case moves on (qualified, referred, closed, reopened, an offer
accepted …), the unit channel's *new concern* notice is updated in place — its state shown, the buttons that no
longer apply gone (Slack `chat.update`, Teams update activity).

The update is an outbox row that replaces the notice's row (`replaces_id`), written in the transaction that moved
the case, so a restart loses nothing and the platforms' dispatchers keep channel order. `transition()` marks a
case as moved with the unit of work; just before it commits (storage.db.UnitOfWork), each moved case gets one update
with its final state.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, func, select

from commands.cases.buttons import case_buttons
from commands.reply import FieldLine, Reply
from storage import outbox
from storage.db import then
from storage.models import Case, FollowUp, OutboxMessage, Subject


def notice_key(case: Case) -> str:
    """The dedupe key of a case's *new concern* notice: how its updates find it."""
    return f"case-notice:{case.ref}"


def moved(ctx: Any, case: Case) -> None:
    """`case` moved on: its notice is updated when the unit of work commits, once, with its final state."""
    then(ctx.session, "channel notices", _follow_moved, (ctx, case))


def follow(ctx: Any, case: Case) -> bool:
    """Queue the update of the case's notice with its current state; False when it has none."""
    session = ctx.session
    _reminders(ctx, case)
    original = session.exec(select(OutboxMessage).where(OutboxMessage.dedupe_key == notice_key(case))).first()
    if original is None:
        return False
    subjects = session.exec(select(func.count()).select_from(Subject).where(Subject.case_id == case.id)).one()
    fields = [FieldLine(ctx.t("field.state"), ctx.label("state", case.state)),
              FieldLine(ctx.t("field.subjects"), str(subjects))]
    if case.responsible_org:
        fields.append(FieldLine(ctx.t("field.responsible"), ctx.label("org", case.responsible_org)))
    reply = Reply(text=ctx.t("concern.notice_now", ref=case.ref, severity=ctx.label("severity", case.severity),
                             track=ctx.label("track", case.track)),
                  fields=fields, buttons=case_buttons(ctx, case), private=False)
    outbox.enqueue(session, clock=ctx.svc.clock, vault=ctx.svc.vault, target_kind="channel", target=original.target,
                   payload=reply.to_json(), replaces_id=original.id)
    return True


def _reminders(ctx: Any, case: Case) -> None:
    """Reminder DMs of this case whose follow-up the move finished (a visitation when the case is referred, every
    reminder when it closes) lose their buttons and say why — once: a DM already replaced (done, snoozed, or by an
    earlier move) is left as it is."""
    session = ctx.session
    finished = session.exec(select(FollowUp).where(
        FollowUp.case_id == case.id, col(FollowUp.last_message_id).is_not(None),
        col(FollowUp.state).in_(("done", "cancelled"))))
    for followup in finished:
        replaced = session.exec(select(OutboxMessage.id).where(
            OutboxMessage.replaces_id == followup.last_message_id)).first()
        original = session.get(OutboxMessage, followup.last_message_id)
        if replaced is not None or original is None:
            continue
        reply = Reply(title=f"F-{followup.id} · {case.ref}",
                      text=ctx.t("followup.moved_on", ref=case.ref, state=ctx.label("state", case.state)))
        outbox.enqueue(session, clock=ctx.svc.clock, vault=ctx.svc.vault, target_kind=original.target_kind,
                       target=original.target, payload=reply.to_json(), replaces_id=original.id)


def _follow_moved(_session: Session, moves: list[tuple[Any, Case]]) -> None:
    latest = {case.id: (ctx, case) for ctx, case in moves}  # a case that moved twice: one update
    for ctx, case in latest.values():
        follow(ctx, case)
