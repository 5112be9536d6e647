"""Small helpers for driving the command layer directly (dispatch / submit_form) in tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, func, select
from sqlmodel import Session, SQLModel
from sqlmodel import select as sm_select

from commands.context import Services
from commands.reply import FormResult, Invocation, Reply
from commands.router import dispatch, submit_form
from storage.crypto import Vault
from storage.db import unit_of_work
from storage.enums import Org, Role
from storage.models import AuditEntry, Case, CaseEvent, Member, OutboxMessage, Subject
from storage.sealed import ALL as SEALED

ADMIN = "U_ADMIN"
SEVERITY_HIGH_CONCERN = ('concern new severity=high track=child age=15-17 source=school district=Nørrebro '
                         'basis=rpl115 summary="Udtaler støtte til IS"')


def run(svc: Services, user: str, text: str, **kw: Any) -> Reply:
    return dispatch(svc, Invocation(user_id=user, text=text, platform="console", **kw))


def ok(svc: Services, user: str, text: str) -> Reply:
    reply = run(svc, user, text)
    assert reply.ok, f"{text!r} → {reply.text}"
    return reply


def confirmed(svc: Services, user: str, text: str) -> Reply:
    """A command that asks first (commands.confirm): the question, then Yes clicked; returns the answer."""
    question = ok(svc, user, text)
    yes = [b for b in question.buttons if b.action_id == "confirm.yes"]
    assert yes, f"{text!r} did not ask: {question.text}"
    return ok(svc, user, yes[0].command)


def submit(svc: Services, user: str, form_id: str, values: dict[str, str],
           context: dict[str, str] | None = None) -> FormResult:
    return submit_form(svc, Invocation(user_id=user, text="", platform="console"), form_id, values, context)


def seed_admin(svc: Services, user: str = ADMIN) -> None:
    with unit_of_work(svc.engine) as session:
        session.add(Member(user_id=user, platform="console", role=Role.admin.value, org=Org.BIF.value,
                           display_name=user, created_at=svc.clock.now()))


def add_member(svc: Services, user: str, role: str, org: str) -> None:
    ok(svc, ADMIN, f"unit add <@{user}> role={role} org={org}")


def new_case(svc: Services, user: str = ADMIN, text: str = SEVERITY_HIGH_CONCERN) -> str:
    reply = ok(svc, user, text)
    with unit_of_work(svc.engine) as session:
        ref = session.exec(sm_select(Case.ref).order_by(Case.id.desc())).first()  # type: ignore[union-attr]
    assert ref is not None and ref in reply.text
    return ref


def case_row(svc: Services, ref: str) -> Case:
    with unit_of_work(svc.engine) as session:
        case = session.exec(sm_select(Case).where(Case.ref == ref)).one()
    return case


def pseudonyms(svc: Services, ref: str) -> list[str]:
    with unit_of_work(svc.engine) as session:
        case = session.exec(sm_select(Case).where(Case.ref == ref)).one()
        return list(session.exec(sm_select(Subject.pseudonym).where(Subject.case_id == case.id)
                                 .order_by(Subject.id)))  # type: ignore[arg-type]


def events(svc: Services, ref: str) -> list[tuple[str, str]]:
    with unit_of_work(svc.engine) as session:
        case = session.exec(sm_select(Case).where(Case.ref == ref)).one()
        rows = session.exec(sm_select(CaseEvent).where(CaseEvent.case_id == case.id)
                            .order_by(CaseEvent.id))  # type: ignore[arg-type]
        return [(e.kind, e.data) for e in rows]


def audit_entries(svc: Services) -> list[AuditEntry]:
    with unit_of_work(svc.engine) as session:
        return list(session.exec(sm_select(AuditEntry).order_by(AuditEntry.id)))  # type: ignore[arg-type]


def row_counts(svc: Services) -> dict[str, int]:
    with svc.engine.connect() as conn:
        return {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in SQLModel.metadata.sorted_tables}


def dump_values(svc: Services) -> list[tuple[str, str, object]]:
    """Every column of every row of every table: (table, column, value)."""
    meta = MetaData()
    out: list[tuple[str, str, object]] = []
    with svc.engine.connect() as conn:
        meta.reflect(conn)
        for name, table in meta.tables.items():
            for row in conn.execute(select(table)).mappings():
                out.extend((name, column, value) for column, value in row.items())
    return out


def decrypted_texts(svc: Services) -> list[str]:
    """Every encrypted field, decrypted with a fresh vault: what the database holds under encryption."""
    vault = Vault(svc.keys.master_key, svc.clock)
    texts: list[str] = []
    with Session(svc.engine) as session:
        for column in SEALED:
            for row in session.exec(sm_select(column.model)):
                if getattr(row, column.ct) is not None:
                    texts.append(vault.decrypt(session, getattr(row, column.ct), getattr(row, column.kid),
                                               column.label))
    return texts


def outbox_messages(svc: Services) -> list[tuple[str, str, Reply]]:
    """(target_kind, target, reply) of every queued or sent message, in order."""
    vault = Vault(svc.keys.master_key, svc.clock)
    with Session(svc.engine) as session:
        rows = list(session.exec(sm_select(OutboxMessage).order_by(OutboxMessage.id)))  # type: ignore[arg-type]
        return [(r.target_kind, r.target,
                 Reply.from_json(vault.decrypt(session, r.payload_ct, r.payload_kid, "outbox.payload")))
                for r in rows]


def reply_text(reply: Reply) -> str:
    """Everything a platform would render from a reply."""
    parts = [reply.title or "", reply.text]
    parts += [f"{f.label} {f.value}" for f in reply.fields]
    parts += [f"{b.label} {b.value} {b.command}" for b in reply.buttons]
    return "\n".join(parts)
