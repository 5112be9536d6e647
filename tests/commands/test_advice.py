"""Advice contacts (`concern advice`, `concern promote`, SPEC.md §10) and the procedure edited in chat
(`unit procedure …`): contacts and case courses counted apart, a promoted contact keeps its received time and
is not born overdue, advice is erased like an unfounded case; each procedure edit a new, audited version."""

from __future__ import annotations

from datetime import date, timedelta

from cmdkit import ADMIN, add_member, audit_entries, new_case, ok, run, seed_admin, submit
from sqlmodel import select

from commands.reports import kpi
from scheduler.jobs.retention import erase_due_and_notify
from storage.contacts import AdviceContact
from storage.db import unit_of_work
from storage.fact_tables import ReportContact
from storage.models import Case, FollowUp
from storage.profile import store
from storage.profile.tables import CaseStep, UnitProfileVersion

ADVICE = 'concern advice source=school district=Valby topic=signs "Lærer spurgte til tegn; rådgivet om samtale"'


def _kpis(svc):
    with unit_of_work(svc.engine) as session:
        return kpi.compute(session, date(2026, 1, 1), date(2026, 12, 31), svc.clock.now(), svc.calendar().tz)


def test_an_advice_contact_has_an_h_reference_no_person_and_no_deadline(svc):
    seed_admin(svc)
    reply = ok(svc, ADMIN, ADVICE)
    assert "H-2026-0001" in reply.text and "no deadline" in reply.text
    with unit_of_work(svc.engine) as session:
        contact = session.exec(select(AdviceContact)).one()
        assert contact.topic == "signs" and contact.district == "Valby" and contact.case_id is None
        assert b"samtale" not in (contact.text_ct or b"")  # encrypted
        assert session.exec(select(Case)).first() is None and session.exec(select(FollowUp)).first() is None
    refused = run(svc, ADMIN, 'concern advice source=school topic=signs "Ring til Hans på 20 30 40 50"')
    assert not refused.ok  # the PII guard, as for any free text
    assert not run(svc, ADMIN, 'concern advice source=school topic=weather "x"').ok
    form = ok(svc, ADMIN, "concern advice").form
    assert form is not None and [f.name for f in form.fields] == ["source", "district", "topic", "advice"]
    result = submit(svc, ADMIN, "concern.advice", {"source": "club", "topic": "handling", "advice": "Forælder ringede"})
    assert result.reply is not None and "H-2026-0002" in result.reply.text
    assert any(b.command == "concern advice" for b in ok(svc, ADMIN, "concern").buttons)  # a choice at intake


def test_reports_count_contacts_and_case_courses_apart(svc):
    seed_admin(svc)
    add_member(svc, "U_SOF", "member", "SOF")
    for _ in range(3):
        ok(svc, ADMIN, ADVICE)
    refs = [new_case(svc) for _ in range(2)]
    ok(svc, ADMIN, f"case qualify {refs[0]} level=preventive")
    ok(svc, ADMIN, f"case refer {refs[0]} to=SOF")
    k = _kpis(svc)
    assert (k.contacts, k.advice, k.concerns, k.courses) == (5, 3, 2, 1)
    text = ok(svc, ADMIN, "report kpi").text
    assert "Contacts in all: 5 (of them 3 advice without a case); case courses (referred): 1" in text
    annual = ok(svc, ADMIN, "report annual year=2026 format=csv").attachments[0].data.decode("utf-8-sig")
    assert "Advice without a case" in annual and "Case courses (referred)" in annual


def test_a_promoted_contact_keeps_its_received_time_and_is_not_born_overdue(svc, clock):
    seed_admin(svc)
    received = clock.now()
    ok(svc, ADMIN, ADVICE)
    clock.advance(days=5)  # the normal window (48 h for high) ran out while it was advice
    reply = ok(svc, ADMIN, "concern promote H-2026-0001 severity=high track=child age=15-17 basis=rpl115")
    assert "H-2026-0001 is now case KE-2026-0001" in reply.text
    with unit_of_work(svc.engine) as session:
        case = session.exec(select(Case)).one()
        assert case.received_at == received and case.source == "school" and case.district == "Valby"
        assert case.deadline_at == clock.now() + timedelta(hours=48)
        contact = session.exec(select(AdviceContact)).one()
        assert contact.case_id == case.id and contact.text_ct is None  # the advice is the case's summary now
        assert session.get(ReportContact, contact.fact_key).promoted_on is not None  # type: ignore[union-attr]
    show = ok(svc, ADMIN, "case show KE-2026-0001")
    assert ("From advice contact", "H-2026-0001") in [(f.label, f.value) for f in show.fields]
    assert "Lærer spurgte" in show.text + " ".join(f.value for f in show.fields)
    k = _kpis(svc)
    assert (k.contacts, k.advice, k.concerns) == (1, 0, 1)  # counted once, as its case
    assert k.ratios["visitation"].den == 0 and k.ratios["visitation"].pending == 1  # not missed
    again = run(svc, ADMIN, "concern promote H-2026-0001 severity=high track=child age=15-17 basis=rpl115")
    assert not again.ok and "already become case KE-2026-0001" in again.text
    assert not run(svc, ADMIN, "concern promote H-2026-0099 severity=high track=child age=15-17 basis=rpl115").ok
    assert not run(svc, ADMIN, "concern promote KE-2026-0001").ok


def test_advice_contacts_are_erased_like_unfounded_cases(svc, clock):
    seed_admin(svc)
    ok(svc, ADMIN, ADVICE)
    days = svc.settings.retention_days_unfounded
    clock.advance(days=days - 1)
    erase_due_and_notify(svc, clock.now())
    assert run(svc, ADMIN, "concern promote H-2026-0001").ok
    clock.advance(days=2)
    erase_due_and_notify(svc, clock.now())
    with unit_of_work(svc.engine) as session:
        assert session.exec(select(AdviceContact)).first() is None
        assert len(session.exec(select(ReportContact)).all()) == 1  # the anonymous count stays
    assert "erased" in run(svc, ADMIN, "concern promote H-2026-0001").text


def test_the_secretariat_edits_a_procedure_in_chat_and_each_edit_is_a_version(svc):
    seed_admin(svc)
    add_member(svc, "U_SEC", "secretariat", "BIF")
    add_member(svc, "U_MEM", "member", "SSP")
    ref = new_case(svc)
    ok(svc, ADMIN, f"case qualify {ref} level=preventive")  # a case under way: version 1's checklist
    shown = ok(svc, "U_SEC", "unit procedure show child").text
    assert ("1. Register checks by every fixed partner — the secretariat (as a whole) — 1 working day after "
            "receipt") in shown
    added = ok(svc, "U_SEC", 'unit procedure add child "Ring til skolen" responsible=owner anchor=referred '
                             'due=3d required=yes at=2')
    assert "Step 2 was added (profile version 2)" in added.text and "2. Ring til skolen — the case owner" in added.text
    ok(svc, "U_SEC", "unit procedure move child 2 place=10")
    ok(svc, "U_SEC", "unit procedure remove child 10")
    assert not run(svc, "U_MEM", "unit procedure remove child 1").ok
    assert not run(svc, "U_SEC", "unit procedure move child 1 place=1").ok
    with unit_of_work(svc.engine) as session:
        versions = session.exec(select(UnitProfileVersion.version).order_by(UnitProfileVersion.version)).all()
        assert versions == [1, 2, 3, 4]
        assert len(store.profile(session, svc.settings).steps("child")) == 9  # back where it started
        case = session.exec(select(Case).where(Case.ref == ref)).one()
        assert len(session.exec(select(CaseStep).where(CaseStep.case_id == case.id)).all()) == 9
        assert case.procedure_version == 1
    actions = [e.action for e in audit_entries(svc)]
    assert {"unit.procedure.add", "unit.procedure.move", "unit.procedure.remove"} <= set(actions)
    exported = ok(svc, ADMIN, "unit profile export").attachments[0].data.decode()
    assert exported.startswith("# Version 4: changed in chat (unit procedure remove child).")


def test_the_annual_report_hides_contacts_in_all_when_the_advice_count_is_small(svc):
    seed_admin(svc)
    for _ in range(6):
        new_case(svc)
    for _ in range(2):
        ok(svc, ADMIN, ADVICE)
    rows = ok(svc, ADMIN, "report annual year=2026 format=csv").attachments[0].data.decode("utf-8-sig")
    cells = {line.split(",")[1]: line.split(",")[-1] for line in rows.splitlines()
             if line.startswith("Concerns received,")}
    assert cells["Concerns received"] == "6" and cells["Advice without a case"] == "<5"
    assert cells["Contacts in all"] == "x"  # 8 − 6 would give the hidden 2 away


def test_a_step_added_through_the_form_in_words(svc):
    seed_admin(svc)
    reply = ok(svc, ADMIN, "unit procedure add adult")
    assert reply.form is not None and reply.form.context == {"track": "adult"}
    responsible = next(f for f in reply.form.fields if f.name == "responsible")
    assert "the case owner" in responsible.option_labels and "SOF" in responsible.options
    bad = submit(svc, ADMIN, "unit.procedure.add", {"title": "Kontakt jobcentret", "responsible": "owner",
                                                    "anchor": "referred", "due": "soon"}, {"track": "adult"})
    assert "due" in bad.errors and "working days" in bad.errors["due"]
    done = submit(svc, ADMIN, "unit.procedure.add", {"title": "Kontakt jobcentret", "responsible": "SOF",
                                                     "anchor": "referred", "due": "2wd", "required": "yes",
                                                     "agenda": "no", "at": "1"}, {"track": "adult"})
    assert done.reply is not None and "1. Kontakt jobcentret — SOF — 2 working days after referral" in done.reply.text


def test_promote_typed_with_its_contact_opens_the_form_only_for_a_contact_that_can_still_be_promoted(svc):
    seed_admin(svc)
    ok(svc, ADMIN, ADVICE)
    form = ok(svc, ADMIN, "concern promote H-2026-0001").form
    assert form is not None and form.context == {"contact": "H-2026-0001"} and "H-2026-0001" in form.title
    assert [f.name for f in form.fields] == ["severity", "track", "basis", "age"]
    missing = run(svc, ADMIN, "concern promote H-2026-0009")
    assert not missing.ok and missing.form is None and "H-2026-0009 does not exist" in missing.text
    done = submit(svc, ADMIN, "concern.promote", {"severity": "high", "track": "barn", "basis": "rpl115",
                                                  "age": "15-17"}, form.context)
    assert done.reply is not None and "H-2026-0001 is now case KE-2026-0001" in done.reply.text
    opened_bare = ok(svc, ADMIN, "concern promote").form  # the contact asked in the form, checked on its field
    assert opened_bare is not None and opened_bare.fields[0].name == "contact"
    wrong = submit(svc, ADMIN, "concern.promote", {"contact": "H-2026-0009", "severity": "high", "track": "child",
                                                   "basis": "rpl115", "age": "15-17"})
    assert set(wrong.errors) == {"contact"} and "does not exist" in wrong.errors["contact"]
    again = run(svc, ADMIN, "concern promote H-2026-0001")
    assert not again.ok and again.form is None and "already become case KE-2026-0001" in again.text


def test_a_step_number_out_of_range_in_the_procedure_form_is_reported_on_its_field(svc):
    seed_admin(svc)
    form = ok(svc, ADMIN, "unit procedure remove").form  # no track yet: the step is typed as a number
    assert form is not None and [f.name for f in form.fields] == ["track", "n"]
    wrong = submit(svc, ADMIN, "unit.procedure.remove", {"track": "voksen", "n": "99"})
    assert set(wrong.errors) == {"n"} and "not a step number" in wrong.errors["n"]
    steps = ok(svc, ADMIN, "unit procedure remove child").form
    assert steps is not None and [f.name for f in steps.fields] == ["n"]
    assert steps.fields[0].options[0] == "1" and steps.fields[0].option_labels[0].startswith("1. ")


def test_a_unit_without_districts_is_not_asked_for_one_in_the_advice_form(db_url, clock):
    from tests.conftest import make_settings, make_svc

    svc = make_svc(make_settings(db_url, unit_profile="denmark-generic"), clock)
    seed_admin(svc)
    form = ok(svc, ADMIN, "concern advice").form
    assert form is not None and [f.name for f in form.fields] == ["source", "topic", "advice"]
    source, topic = form.fields[0].options[0], form.fields[1].options[0]
    done = submit(svc, ADMIN, "concern.advice", {"source": source, "topic": topic, "advice": "Rådgivet"})
    assert done.reply is not None and "H-2026-0001" in done.reply.text
