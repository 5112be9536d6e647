"""`unit keys rotate`: a new data key, everything re-encrypted under it, nothing lost."""

from __future__ import annotations

import dataclasses

from sqlalchemy import LargeBinary
from sqlmodel import Session, SQLModel, select

from commands.reply import Invocation
from commands.router import dispatch, submit_form
from storage.db import unit_of_work
from storage.models import AuditEntry, Case, CaseEvent, DataKey, Member, MentorSession, OutboxMessage, Subject
from storage.sealed import ROTATED

ADMIN = "U_ADMIN"
SUMMARY = "Udtaler støtte til IS"


def run(svc, text: str, user: str = ADMIN):
    reply = dispatch(svc, Invocation(user, text))
    assert reply.ok, (text, reply.text)
    return reply


def shown(reply) -> str:
    return "\n".join([reply.text, *(f"{f.label} {f.value}" for f in reply.fields)])


def populate(svc) -> None:
    with unit_of_work(svc.engine) as session:
        session.add(Member(user_id=ADMIN, platform="console", role="admin", org="BIF", created_at=svc.clock.now()))
    run(svc, "unit add <@U_M> role=mentor org=EKP")
    run(svc, 'concern new severity=high track=child age=15-17 source=school district=Valby basis=rpl115 '
             f'summary="{SUMMARY}"')
    run(svc, 'case note KE-2026-0001 "Skolen melder fravær"')
    run(svc, "case qualify KE-2026-0001 level=preventive")
    run(svc, "case refer KE-2026-0001 to=SOF")
    with unit_of_work(svc.engine) as session:
        pseudonym = session.exec(select(Subject.pseudonym)).one()
    run(svc, f"case offer KE-2026-0001 subject={pseudonym} kind=mentor")
    run(svc, f"case respond KE-2026-0001 subject={pseudonym} kind=mentor accepted")
    run(svc, f"case assign KE-2026-0001 subject={pseudonym} kind=mentor mentor=<@U_M>")
    run(svc, f'mentor log KE-2026-0001 subject={pseudonym} "Første møde"', user="U_M")
    result = submit_form(svc, Invocation(ADMIN, ""), "concern.lookup",
                         {"identifier": "010203-1234", "purpose": "Forberedelse af møde"})
    assert result.reply is not None and result.reply.ok


def kids(svc) -> set[str]:
    found: set[str] = set()
    with Session(svc.engine) as session:
        for column in ROTATED:
            found |= {k for k in session.exec(select(getattr(column.model, column.kid))) if k}
    return found


def test_rotation_reencrypts_and_case_show_still_shows_the_summary(svc):
    populate(svc)
    with Session(svc.engine) as session:
        (old,) = session.exec(select(DataKey.kid)).all()
    assert kids(svc) == {old}
    reply = run(svc, "unit keys rotate")
    with Session(svc.engine) as session:
        keys = {k.kid: k for k in session.exec(select(DataKey))}
        new = next(kid for kid, k in keys.items() if k.active)
        summary_kids = set(session.exec(select(Case.summary_kid)))
        n = sum(len(session.exec(select(getattr(c.model, c.kid))).all()) for c in ROTATED)
    assert new != old and keys[old].active is False and keys[old].retired_at == svc.clock.now()
    assert f"New data key {new};" in reply.text
    assert summary_kids == {new}  # the old kid is no longer used by cases
    assert kids(svc) == {new}  # nor by any other re-encrypted field
    assert n > 5
    for fresh in (svc, dataclasses.replace(svc)):  # also with a vault that has cached nothing
        show = shown(run(fresh, "case show KE-2026-0001"))
        assert SUMMARY in show and "Skolen melder fravær" in show
        assert "Første møde" in shown(run(fresh, "case show KE-2026-0001", user="U_M"))
    assert "intact" in run(svc, "unit audit verify").text  # audit purposes keep their key: the chain holds


def test_new_text_after_rotation_uses_the_new_key_and_a_second_rotation_works(svc):
    populate(svc)
    run(svc, "unit keys rotate")
    run(svc, 'case note KE-2026-0001 "Efter rotation"')
    second = run(svc, "unit keys rotate")
    with Session(svc.engine) as session:
        active = session.exec(select(DataKey).where(DataKey.active == True)).all()  # noqa: E712
        assert len(active) == 1 and active[0].kid in second.text
        assert set(session.exec(select(CaseEvent.text_kid).where(CaseEvent.text_kid != None))) == {  # noqa: E711
            active[0].kid}
        assert set(session.exec(select(MentorSession.note_kid))) == {active[0].kid}
        assert set(session.exec(select(OutboxMessage.payload_kid))) == {active[0].kid}
        assert len(session.exec(select(DataKey)).all()) == 3
    assert "Efter rotation" in shown(run(svc, "case show KE-2026-0001"))


def test_every_encrypted_column_is_covered_by_rotation():
    rotated = {(c.model.__table__.name, c.ct) for c in ROTATED}  # type: ignore[attr-defined]
    kept = {("auditentry", "purpose_ct"), ("datakey", "wrapped")}  # audit chain; the keys themselves
    binary = {(table.name, column.name) for table in SQLModel.metadata.sorted_tables
              for column in table.columns if isinstance(column.type, LargeBinary)}
    assert binary == rotated | kept


def test_rotation_audits_without_key_material(svc):
    populate(svc)
    run(svc, "unit keys rotate")
    with Session(svc.engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "keys.rotate")).one()
        wrapped = [k.wrapped.hex() for k in session.exec(select(DataKey))]
    assert entry.actor == ADMIN and all(w[:16] not in entry.detail for w in wrapped)


def test_a_rotation_by_another_process_is_used_by_the_next_command(svc):
    """A work process keeps data keys unwrapped, but which key is active it learns in each command's own
    transaction (with the profile read): after another process rotates, new text is under the new key."""
    from storage.crypto import Vault

    populate(svc)
    elsewhere = Vault(svc.keys.master_key, svc.clock, svc.keys.previous_master)  # the CLI, say
    with unit_of_work(svc.engine) as session:
        old, new = elsewhere.rotate(session)
    run(svc, 'concern new severity=high track=child age=15-17 source=school district=Valby basis=rpl115 '
             'summary="Efter rotationen"')
    with Session(svc.engine) as session:
        latest = session.exec(select(Case).order_by(Case.id.desc())).first()  # type: ignore[union-attr]
        assert latest is not None and old != new
        assert latest.summary_kid == new
    assert "Efter rotationen" in shown(run(svc, f"case show {latest.ref}"))
