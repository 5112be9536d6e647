"""Families and the rest of issue 21's second part, use case by use case: a severity change re-plans the
visitation reminder (frozen clock, the scheduler's tick); a referred case keeps the deadline it was referred
under; two missed meetings in a row raise the alarm once; a course's result decides its outcome checks and
whether the 70 % targets count it; the disclosure log per person; a prison case's release date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col, select

from commands.cases.disclosures import disclosures_for
from commands.markup import mention
from scheduler.jobs.followups import sweep
from storage.db import unit_of_work
from storage.fact_tables import ReportCase
from storage.models import Case, FollowUp, Subject
from storage.profile.tables import CaseStep
from tests.commands.cmdkit import ADMIN, add_member, ok, run, seed_admin
from tests.conftest import make_settings, make_svc
from tests.scheduler.helpers import sent
from tests.scheduler.test_tick_cli import tick

CPH = ZoneInfo("Europe/Copenhagen")
NORMAL = ('concern new severity=normal track=adult age=25+ source=social district=Valby basis=rpl115 '
          'summary="Bekymring"')
FAMILY = ('concern new severity=high track=adult age=25+,15-17,0-14 source=social district=Nørrebro '
          'basis=rpl115 summary="Far og søn udtaler støtte til IS"')


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=CPH).astimezone(UTC)


@pytest.fixture
def unit(svc):
    seed_admin(svc)
    for user, role, org in (("U_SEC", "secretariat", "BIF"), ("U_SOF", "member", "SOF"),
                            ("U_SSP", "member", "SSP"), ("U_VINK", "member", "VINK"),
                            ("U_MENTOR", "mentor", "EKP")):
        add_member(svc, user, role, org)
    return svc


def _visitation(svc, ref: str) -> list[FollowUp]:
    with unit_of_work(svc.engine) as session:
        case = session.exec(select(Case).where(Case.ref == ref)).one()
        return list(session.exec(select(FollowUp).where(FollowUp.case_id == case.id, FollowUp.kind == "visitation")
                                 .order_by(col(FollowUp.id))))


def _persons(svc, ref: str) -> list[Subject]:
    with unit_of_work(svc.engine) as session:
        case = session.exec(select(Case).where(Case.ref == ref)).one()
        return list(session.exec(select(Subject).where(Subject.case_id == case.id).order_by(col(Subject.id))))


def _p(subject: Subject) -> str:
    return f"{subject.pseudonym[:4]}-{subject.pseudonym[4:]}"


def test_a_raised_severity_brings_the_deadline_forward_and_replans_the_reminder(unit, db_url):
    svc = unit
    svc.clock.instant = local(2026, 11, 23, 10, 0)  # Monday 10:00: 72 h → Thursday 10:00
    ok(svc, "U_SOF", NORMAL)
    svc.clock.instant = local(2026, 11, 23, 20, 0)
    reply = ok(svc, "U_SEC", 'case severity KE-2026-0001 critical reason="Udrejse frygtes"')
    assert "new visitation deadline 24 Nov 2026, 20:00" in " ".join(f.value for f in reply.fields)
    old, new = _visitation(svc, "KE-2026-0001")
    assert old.state == "cancelled" and new.state == "pending" and new.urgent
    assert new.due_at == local(2026, 11, 24, 20, 0) and new.notify_at == local(2026, 11, 24, 14, 0)  # 75 % of 24 h
    assert [(k, t) for k, t, _text in sent(svc) if "severity now" in _text] == [("channel", "unit")]
    notice = next(text for _k, _t, text in sent(svc) if "severity now" in text)
    assert notice == "KE-2026-0001 · severity now critical"  # the reference and the level only
    # the scheduler's tick: nothing before the warning, the warning at once (critical), overdue after
    assert "0 reminded" in tick(db_url, local(2026, 11, 24, 13, 59))
    out = tick(db_url, local(2026, 11, 24, 14, 0))
    assert "1 reminded" in out and "KE-2026-0001" in out
    assert "channel #secretariat" in tick(db_url, local(2026, 11, 24, 20, 30))
    # a lower severity never moves the deadline later
    svc.clock.instant = local(2026, 11, 24, 21, 0)
    reply = ok(svc, "U_SEC", 'case severity KE-2026-0001 normal reason="Afklaret"')
    assert "unchanged" in reply.fields[0].value
    ok(svc, "U_SEC", "case qualify KE-2026-0001 level=preventive")
    ok(svc, "U_SEC", "case refer KE-2026-0001 to=SOF")
    with unit_of_work(svc.engine) as session:
        case = session.exec(select(Case).where(Case.ref == "KE-2026-0001")).one()
        fact = session.get(ReportCase, case.fact_key)
    assert case.deadline_at == local(2026, 11, 24, 20, 0) and case.deadline_met is False
    assert fact.deadline_at == case.deadline_at and fact.deadline_met is False  # the visitation target's deadline


def test_a_referred_case_keeps_its_deadline_and_only_the_owner_or_the_secretariat_changes_it(unit):
    svc = unit
    ok(svc, "U_SOF", NORMAL)
    ok(svc, "U_SEC", "case qualify KE-2026-0001 level=preventive")
    ok(svc, "U_SEC", "case refer KE-2026-0001 to=SOF owner=<@U_SOF>")
    before = _visitation(svc, "KE-2026-0001")
    refused = run(svc, "U_VINK", 'case severity KE-2026-0001 critical reason="x"')
    assert not refused.ok and "Only the case owner" in refused.text
    for bad in ("case severity KE-2026-0001 critical", 'case severity KE-2026-0001 urgent reason="x"',
                'case severity KE-2026-0001 normal reason="x"'):
        assert not run(svc, "U_SOF", bad).ok, bad
    reply = ok(svc, "U_SOF", 'case severity KE-2026-0001 critical reason="Forsvundet"')
    assert "adhoc" in " ".join(f.value for f in reply.fields)
    assert _visitation(svc, "KE-2026-0001") == before
    with unit_of_work(svc.engine) as session:
        case = session.exec(select(Case).where(Case.ref == "KE-2026-0001")).one()
        assert case.severity == "critical" and case.deadline_met is True


def test_persons_are_referred_one_by_one_and_the_case_at_the_first(unit):
    svc = unit
    ok(svc, "U_SOF", FAMILY)
    father, son, sister = _persons(svc, "KE-2026-0001")
    assert [p.track for p in (father, son, sister)] == ["adult"] * 3
    ok(svc, "U_SOF", f"case subject set KE-2026-0001 subject={_p(son)} track=crime relation=child")
    ok(svc, "U_SOF", "case subject add KE-2026-0001 age=18-24 track=adult_psych relation=partner")
    ok(svc, "U_SEC", "case qualify KE-2026-0001 level=pre_emptive")
    reply = ok(svc, "U_SEC", f"case refer KE-2026-0001 to=SSP owner=<@U_SSP> subject={_p(son)}")
    assert "Not referred yet" in [f.label for f in reply.fields]
    persons = _persons(svc, "KE-2026-0001")
    assert [(p.responsible_org, p.referred_at is not None) for p in persons] == [
        (None, False), ("SSP", True), (None, False), (None, False)]
    ok(svc, "U_SEC", f"case refer KE-2026-0001 to=SOF subject={_p(father)}")
    which = run(svc, "U_SEC", "case refer KE-2026-0001 to=SOF")
    assert not which.ok and "one at a time" in which.text and _p(sister) in which.text
    show = ok(svc, "U_SEC", "case show KE-2026-0001")
    lines = [f.value for f in show.fields if f.label == "Subject"]
    assert any(f"crime · child · SSP · {mention('U_SSP')}" in x for x in lines)
    assert any("adult with psychiatric problems · partner/spouse · not referred yet" in x for x in lines)
    # the agenda proposes BUF/PSYCH from the persons' own tracks too (the case's track is adult)
    with unit_of_work(svc.engine) as session:
        case = session.exec(select(Case).where(Case.ref == "KE-2026-0001")).one()
        assert case.state == "referred" and case.responsible_org == "SSP"


def test_two_missed_meetings_in_a_row_raise_the_alarm_once(unit):
    svc = unit
    ok(svc, "U_SOF", NORMAL)
    (p,) = _persons(svc, "KE-2026-0001")
    ok(svc, "U_SEC", "case qualify KE-2026-0001 level=preventive")
    ok(svc, "U_SEC", "case refer KE-2026-0001 to=SOF owner=<@U_SOF>")
    for line in (f"case offer KE-2026-0001 subject={_p(p)} kind=mentor",
                 f"case respond KE-2026-0001 subject={_p(p)} kind=mentor accepted consent=yes",
                 f"case assign KE-2026-0001 subject={_p(p)} kind=mentor mentor=<@U_MENTOR>"):
        ok(svc, "U_SOF", line)
    mark = len(sent(svc))

    def log(missed: bool) -> str:
        svc.clock.instant += timedelta(days=7)
        text = f"mentor log KE-2026-0001 subject={_p(p)}" + (" missed=yes" if missed else ' "Møde om skole"')
        return " ".join(f.value for f in ok(svc, "U_MENTOR", text).fields)

    assert "Alarm" not in log(True) and not log(False)
    assert not log(True)
    assert "the owner and the secretariat are told" in log(True)
    assert not log(True)  # a third miss: the alarm was raised already
    alarms = [(k, t) for k, t, text in sent(svc)[mark:] if "missed 2 agreed meetings in a row" in text]
    assert alarms == [("user", "U_SOF"), ("channel", "secretariat")]
    ok(svc, "U_SEC", 'case severity KE-2026-0001 critical reason="Forsvundet"')
    log(False)
    log(True)
    assert "told" in log(True)
    critical = [text for _k, t, text in sent(svc) if t == "U_SOF" and "missed" in text][-1]
    assert "meeting adhoc" in critical and "cases=KE-2026-0001" in critical


def test_a_course_that_is_not_completed_gets_no_outcome_checks_and_is_not_counted(unit):
    svc = unit
    svc.clock.instant = local(2026, 2, 2, 10, 0)
    for n in (1, 2):
        ok(svc, "U_SOF", NORMAL)
        ref = f"KE-2026-000{n}"
        (p,) = _persons(svc, ref)
        ok(svc, "U_SEC", f"case qualify {ref} level=preventive")
        ok(svc, "U_SEC", f"case refer {ref} to=SOF owner=<@U_SOF>")
        ok(svc, "U_SOF", f"case offer {ref} subject={_p(p)} kind=mentor")
        ok(svc, "U_SOF", f"case respond {ref} subject={_p(p)} kind=mentor accepted consent=yes")
    refused = run(svc, "U_SOF", f"mentor end KE-2026-0001 subject={_p(_persons(svc, 'KE-2026-0001')[0])}")
    assert not refused.ok and "result" in refused.text
    ok(svc, "U_SOF", f"mentor end KE-2026-0001 subject={_p(_persons(svc, 'KE-2026-0001')[0])} result=completed")
    reply = ok(svc, "U_SOF", f"mentor end KE-2026-0002 subject={_p(_persons(svc, 'KE-2026-0002')[0])} "
                             "result=dropped_out")
    assert "does not count as completed" in " ".join(f.value for f in reply.fields)
    with unit_of_work(svc.engine) as session:
        kinds = [(f.case_id, f.kind) for f in session.exec(select(FollowUp).where(
            col(FollowUp.kind).in_(("assess_6m", "outcome_12m"))))]
    assert sorted(kinds) == [(1, "assess_6m"), (1, "outcome_12m")]
    kpi = ok(svc, "U_SEC", "report kpi year=2026")
    assert "dropped out" not in kpi.text
    annual = ok(svc, "U_SEC", "report annual year=2026 format=csv")
    csv = annual.attachments[0].data.decode("utf-8-sig")
    assert "Ended 1-1 courses by result" in csv


def test_reports_count_persons_where_the_targets_are_per_person(unit):
    svc = unit
    svc.clock.instant = local(2026, 3, 2, 10, 0)
    ok(svc, "U_SOF", FAMILY)
    father, son, sister = _persons(svc, "KE-2026-0001")
    ok(svc, "U_SOF", f"case subject set KE-2026-0001 subject={_p(son)} track=crime relation=child")
    ok(svc, "U_SOF", f"case subject set KE-2026-0001 subject={_p(sister)} track=child relation=sibling")
    ok(svc, "U_SEC", "case qualify KE-2026-0001 level=pre_emptive")
    ok(svc, "U_SEC", "case refer KE-2026-0001 to=SOF owner=<@U_SOF>")
    for p, answer in ((father, "accepted consent=yes"), (son, "accepted"), (sister, "declined")):
        kind = "parent_coach" if p is father else "mentor"
        ok(svc, "U_SOF", f"case offer KE-2026-0001 subject={_p(p)} kind={kind}")
        ok(svc, "U_SOF", f"case respond KE-2026-0001 subject={_p(p)} kind={kind} {answer}")
    svc.clock.instant = local(2027, 2, 1, 10, 0)
    from commands.reports import annual, kpi

    with unit_of_work(svc.engine) as session:
        k = kpi.compute(session, datetime(2026, 1, 1).date(), datetime(2026, 12, 31).date(), svc.clock.now(), CPH)
        report = annual.build(session, 2026, svc.clock.now(), CPH, ())
    assert (k.ratios["acceptance"].num, k.ratios["acceptance"].den) == (2, 3)  # per person: three offers
    assert (k.ratios["visitation"].num, k.ratios["visitation"].den) == (1, 1)  # per case: one visitation
    assert k.concerns == 1
    tables = {t.key: dict(zip(t.labels, t.current, strict=True)) for t in report.tables}
    assert tables["track"]["adult"] == 1 and sum(tables["track"].values()) == 1  # cases by track
    assert (tables["persons_track"]["adult"], tables["persons_track"]["crime"], tables["persons_track"]["child"]) \
        == (1, 1, 1)


def test_every_disclosure_is_logged_and_a_person_sees_only_their_own(unit):
    svc = unit
    ok(svc, "U_SOF", FAMILY)
    father, son, _sister = _persons(svc, "KE-2026-0001")
    ok(svc, "U_SOF", "case checked KE-2026-0001 org=SSP found=no")
    ok(svc, "U_SEC", "case qualify KE-2026-0001 level=pre_emptive")
    ok(svc, "U_SEC", f"case refer KE-2026-0001 to=SOF subject={_p(father)}")
    ok(svc, "U_SOF", f'case disclose KE-2026-0001 to=POLICE basis=dbl8 what=identity,health subject={_p(son)} '
                     '"Til DKS"')
    for bad in ("case disclose KE-2026-0001 to=POLICE basis=rpl115 what=gossip",
                "case disclose KE-2026-0001 to=NOBODY basis=rpl115 what=identity",
                "case disclose KE-2026-0001 to=POLICE what=identity",
                'case disclose KE-2026-0001 to=POLICE basis=rpl115 what=identity "skriv til far@example.dk"'):
        assert not run(svc, "U_SOF", bad).ok, bad
    with unit_of_work(svc.engine) as session:
        case = session.exec(select(Case).where(Case.ref == "KE-2026-0001")).one()
        every = disclosures_for(session, case=case)
        fathers = disclosures_for(session, subject=session.get(Subject, father.id))
        sons = disclosures_for(session, subject=session.get(Subject, son.id))
    assert [(d.how, d.org, d.basis, d.categories) for d in every] == [
        ("check", "SSP", "rpl115", ("identity", "concern")),
        ("referral", "SOF", "rpl115", ("concern", "assessment")),
        ("manual", "POLICE", "dbl8", ("identity", "health"))]
    assert [d.how for d in fathers] == ["check", "referral"] and [d.how for d in sons] == ["check", "manual"]
    show = ok(svc, "U_SEC", "case show KE-2026-0001")
    disclosed = [f.value for f in show.fields if f.label == "Disclosed"]
    assert len(disclosed) == 3 and "Til DKS" in disclosed[-1] and "Data Protection Act §8" in disclosed[-1]


def test_a_release_date_starts_the_prison_procedure_six_months_before(db_url, clock):
    svc = make_svc(make_settings(db_url, unit_profile="denmark-generic"), clock)  # procedures on
    seed_admin(svc)
    add_member(svc, "U_SEC", "secretariat", "SEK")
    svc.clock.instant = local(2026, 11, 23, 10, 0)
    ok(svc, ADMIN, NORMAL.replace("track=adult", "track=crime").replace(" district=Valby", ""))
    ok(svc, ADMIN, "concern new severity=normal track=crime age=25+ source=prison basis=rpl115 summary=\"Indsat\"")
    ok(svc, ADMIN, "case release-date KE-2026-0002 2027-09-30")  # before qualification: the track's steps follow
    ok(svc, ADMIN, "case qualify KE-2026-0002 level=preventive")
    with unit_of_work(svc.engine) as session:
        second = list(session.exec(select(CaseStep).join(Case, Case.id == CaseStep.case_id)
                                   .where(Case.ref == "KE-2026-0002").order_by(col(CaseStep.n))))
    assert [s.anchor for s in second][:3] == ["release"] * 3 and "received" in [s.anchor for s in second]
    assert not run(svc, ADMIN, "case release-date KE-2026-0001 2026-01-01").ok
    assert not run(svc, ADMIN, "case release-date KE-2026-0001 someday").ok
    reply = ok(svc, ADMIN, "case release-date KE-2026-0001 2027-09-30")
    assert reply.text == ("Expected release for KE-2026-0001: 30 Sept 2027. "
                          "The prison procedure starts 30 Mar 2027.")
    with unit_of_work(svc.engine) as session:
        steps = list(session.exec(select(CaseStep).where(CaseStep.anchor == "release", CaseStep.case_id == 1)
                                  .order_by(col(CaseStep.n))))
        due = [s.due_at.astimezone(CPH).date().isoformat() for s in steps]
    assert due[0] == "2027-03-30" and due[-1] == "2027-10-14"
    ok(svc, ADMIN, "case release-date KE-2026-0001 2027-03-01")  # sooner: the steps move; past ones due now
    with unit_of_work(svc.engine) as session:
        moved = list(session.exec(select(CaseStep).where(CaseStep.anchor == "release", CaseStep.case_id == 1)
                                  .order_by(col(CaseStep.n))))
    assert len(moved) == len(steps) and moved[0].due_at == svc.clock.now()
    sweep(svc, local(2026, 11, 24, 9, 0))
    assert any("Udslusning" in text or "release" in text.lower() for _k, _t, text in sent(svc))
    svc.engine.dispose()


def test_the_subject_access_export_lists_the_recipients_and_their_bases(unit):
    from tests.commands.cmdkit import submit

    svc = unit
    ok(svc, "U_SOF", FAMILY)
    added = submit(svc, ADMIN, "case.subject", {"age": "15-17", "identifier": "010203-1234", "relation": "child"},
                   {"case": "KE-2026-0001"})
    assert added.reply is not None and added.reply.ok, added
    son = _persons(svc, "KE-2026-0001")[-1]
    ok(svc, "U_SOF", "case checked KE-2026-0001 org=SSP found=no")
    ok(svc, "U_SEC", "case qualify KE-2026-0001 level=pre_emptive")
    ok(svc, "U_SEC", f"case refer KE-2026-0001 to=SOF subject={_p(_persons(svc, 'KE-2026-0001')[0])}")
    ok(svc, "U_SOF", f"case disclose KE-2026-0001 to=POLICE basis=dbl8 what=criminal subject={_p(son)}")
    result = submit(svc, ADMIN, "subject.export", {"identifier": "010203-1234", "purpose": "Indsigt"})
    assert result.reply is not None and result.reply.ok
    md = next(a for a in result.reply.attachments if a.filename.endswith(".md")).data.decode()
    section = md.split("Who has received the data (recipients)")[1].split("\n#")[0]  # the letter (documents)
    assert "SSP" in section and "POLICE" in section and "§8" in section
    assert "criminal matters" in section and "SOF" not in section  # the father's referral is not his


def test_each_person_on_another_track_gets_their_own_checklist(db_url, clock):
    svc = make_svc(make_settings(db_url, unit_profile="denmark-generic"), clock)  # procedures on
    seed_admin(svc)
    add_member(svc, "U_SEC", "secretariat", "SEK")
    add_member(svc, "U_SSP", "member", "SSP")
    ok(svc, ADMIN, FAMILY.replace(" district=Nørrebro", ""))
    father, son, sister = _persons(svc, "KE-2026-0001")
    ok(svc, ADMIN, f"case subject set KE-2026-0001 subject={_p(son)} track=crime relation=child")
    ok(svc, ADMIN, "case qualify KE-2026-0001 level=pre_emptive")
    with unit_of_work(svc.engine) as session:
        rows = list(session.exec(select(CaseStep).order_by(col(CaseStep.n))))
    case_steps = [s for s in rows if s.subject_id is None]
    sons = [s for s in rows if s.subject_id == son.id]
    assert case_steps and sons and not [s for s in rows if s.subject_id in (father.id, sister.id)]
    assert min(s.n for s in sons) > max(s.n for s in case_steps)
    waiting = [s for s in sons if s.anchor == "referred"]
    assert waiting and all(s.due_at is None for s in waiting)
    ok(svc, ADMIN, f"case refer KE-2026-0001 to=SOC subject={_p(father)}")  # the case is referred: not the son
    with unit_of_work(svc.engine) as session:
        assert all(session.get(CaseStep, s.id).due_at is None for s in waiting)
    ok(svc, ADMIN, f"case refer KE-2026-0001 to=SSP owner=<@U_SSP> subject={_p(son)}")
    with unit_of_work(svc.engine) as session:
        assert all(session.get(CaseStep, s.id).due_at is not None for s in waiting)
    listed = ok(svc, ADMIN, "case steps KE-2026-0001").text
    assert f"({_p(son)})" in listed
    ok(svc, ADMIN, "case subject add KE-2026-0001 age=25+ track=adult_psych relation=partner")  # joins later
    with unit_of_work(svc.engine) as session:
        partner = session.exec(select(Subject).where(Subject.relation == "partner")).one()
        assert session.exec(select(CaseStep).where(CaseStep.subject_id == partner.id)).first() is not None
    svc.engine.dispose()


def test_an_ad_hoc_member_who_owns_one_person_sees_the_case_and_finds_it_as_theirs(unit):
    svc = unit
    add_member(svc, "U_BUF", "adhoc", "BUF")
    ok(svc, "U_SOF", FAMILY)
    father, son, _sister = _persons(svc, "KE-2026-0001")
    assert not run(svc, "U_BUF", "case show KE-2026-0001").ok
    ok(svc, "U_SEC", "case qualify KE-2026-0001 level=pre_emptive")
    ok(svc, "U_SEC", f"case refer KE-2026-0001 to=SOF owner=<@U_SOF> subject={_p(father)}")
    ok(svc, "U_SEC", f"case refer KE-2026-0001 to=BUF owner=<@U_BUF> subject={_p(son)}")
    assert ok(svc, "U_BUF", "case show KE-2026-0001").ok
    assert "KE-2026-0001" in ok(svc, "U_BUF", "case list mine").text
    assert "KE-2026-0001" in ok(svc, "U_SOF", "case list mine").text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(word=st.text(max_size=12), value=st.text(max_size=16),
       command=st.sampled_from(["case severity KE-2026-0001 {w} reason={v!r}",
                                "case disclose KE-2026-0001 to={w} basis={v} what={w}",
                                "case release-date KE-2026-0001 {w}",
                                "case subject set KE-2026-0001 subject={w} relation={v}",
                                "case refer KE-2026-0001 to=SOF subject={w}",
                                "mentor end KE-2026-0001 subject={w} result={v}",
                                "mentor log KE-2026-0001 subject={w} missed={v}"]))
def test_any_family_arguments_get_an_answer_never_a_crash(unit, command: str, word: str, value: str) -> None:
    svc = unit
    with unit_of_work(svc.engine) as session:
        empty = session.exec(select(Case.id)).first() is None
    if empty:
        ok(svc, "U_SOF", FAMILY)
    text = command.format(w=word.replace('"', ""), v=value.replace('"', ""))
    reply = run(svc, "U_SEC", text)
    assert "error id" not in reply.text and "Traceback" not in reply.text, (text, reply.text)
