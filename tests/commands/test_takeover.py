"""Taking over existing cases (`unit import template|cases`, SPEC.md §10): a dry run that lists every row's
problems at once and stores nothing, an import that is all or nothing, cases marked *overtaget* that raise no
alarm for the past on the next `python -m scheduler tick`, KPIs that leave them out of the visitation target,
and a second import of the same file that adds nothing."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from cmdkit import ADMIN, add_member, audit_entries, ok, run, seed_admin, submit
from sqlmodel import col, func, select
from takeover_files import clean_rows, csv_bytes, fixed_rows, problem_rows, xlsx_bytes

from commands.reports import kpi
from commands.unit import sheet
from storage.db import unit_of_work
from storage.fact_tables import ReportTakeover
from storage.models import Case, Engagement, FollowUp, Offer, Subject
from tests.scheduler.test_tick_cli import tick


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _count(svc, model) -> int:
    with unit_of_work(svc.engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_the_template_comes_as_csv_and_xlsx_with_danish_headers(svc):
    seed_admin(svc)
    reply = ok(svc, ADMIN, "unit import template")
    names = [a.filename for a in reply.attachments]
    assert [n.rsplit(".", 1)[1] for n in names] == ["csv", "xlsx"]
    csv_data = reply.attachments[0].data
    assert not csv_data.startswith("\ufeff".encode())  # an English unit (bot_language=en): commas, no BOM
    assert b"Case no.," in csv_data
    parsed = sheet.read(reply.attachments[1].data)  # the XLSX reads back as a sheet of the same columns
    assert set(parsed.headers) == set(sheet.COLUMNS)


def test_the_danish_template_is_semicolon_separated_with_a_bom():
    data = sheet.template_csv("da")
    assert data.startswith("\ufeff".encode()) and data.decode("utf-8-sig").startswith("Sagsnr.;Modtaget;Status")
    assert set(sheet.read(data).headers) == set(sheet.COLUMNS)


def test_a_dry_run_of_thirty_rows_reports_every_kind_of_problem_at_once_and_stores_nothing(svc, tmp_path):
    seed_admin(svc)
    rows = problem_rows()
    assert len(rows) == 30
    path = _write(tmp_path, "sager.csv", csv_bytes(rows))
    reply = run(svc, ADMIN, f"unit import cases path={path} check=yes")
    assert not reply.ok
    found = {(int(m.group(1)), m.group(2)) for m in re.finditer(r"Row (\d+), ([^:]+):", reply.text)}
    expected = {(11, "Sagsnr."), (12, "Modtaget"), (13, "Modtaget"), (14, "Alvor"), (15, "Spor"), (16, "Alder"),
                (17, "Identifikation (gemmes ikke)"), (18, "Resumé"), (19, "Myndighed"), (20, "Afsluttet"),
                (20, "Afslutningsårsag"), (21, "Myndighed"), (22, "Ejer"), (23, "Tilbudt"), (23, "Forløb start"),
                (24, "Svar"), (25, "Visiteret"), (26, "Niveau"), (26, "Kilde"), (26, "Hjemmel"),
                (26, "Afslutningsårsag"), (27, "Alder"), (28, "Alvor"), (28, "Person"), (29, "Forløb slut"),
                (30, "Afslutningsårsag"), (31, "Visiteret")}
    assert found == expected, reply.text
    assert not any(row < 11 for row, _ in found)  # the nine good rows have no problem
    assert "Dry run: nothing was stored." in reply.text
    assert "20 30 40 50" not in reply.text  # the summary's phone number is named, never echoed
    assert "010203" not in reply.text and 'Row 21, Myndighed: unknown value "…"' in reply.text
    assert _count(svc, Case) == 0
    again = run(svc, ADMIN, f"unit import cases path={path}")  # without check=yes: all or nothing
    assert not again.ok and "either every case is taken over, or none" in again.text
    assert _count(svc, Case) == 0
    assert audit_entries(svc)[-1].result == "problems"


def test_the_thirty_rows_corrected_are_taken_over_without_alarms_once(svc, db_url, tmp_path):
    seed_admin(svc)
    path = _write(tmp_path, "sager.csv", csv_bytes(fixed_rows()))
    assert ok(svc, ADMIN, f"unit import cases path={path} check=yes").ok and _count(svc, Case) == 0
    done = ok(svc, ADMIN, f"unit import cases path={path}")
    assert "29 cases taken over" in done.text and _count(svc, Case) == 29 and _count(svc, Subject) == 30
    assert "Closed cases past their retention period" in " ".join(f.label for f in done.fields)
    out = tick(db_url, svc.clock.now())  # … and the tick's retention run erases the two closed in 2016
    assert "overdue" not in out.lower() and "channel #secretariat" not in out
    with unit_of_work(svc.engine) as session:
        k = kpi.compute(session, date(2016, 1, 1), date(2016, 12, 31), svc.clock.now(), svc.calendar().tz)
        assert len(session.exec(select(Case).where(col(Case.erased_at).is_not(None))).all()) == 2
    assert (k.concerns, k.taken_over, k.courses) == (29, 29, 3)  # referred: B-8, B-10 (a referring authority), B-14
    assert k.ratios["visitation"].den == 0 and k.ratios["visitation"].pending == 0
    again = ok(svc, ADMIN, f"unit import cases path={path}")
    assert "already taken over" in again.text and _count(svc, Case) == 29


def test_imported_cases_are_taken_over_raise_no_alarm_and_a_second_import_adds_nothing(svc, db_url, tmp_path):
    seed_admin(svc)
    add_member(svc, "U_OWNER", "member", "SOF")
    rows = clean_rows()
    rows[2]["owner"] = "U_OWNER"
    path = _write(tmp_path, "sager.csv", csv_bytes(rows))
    check = ok(svc, ADMIN, f"unit import cases path={path} check=yes")
    assert "Nothing is stored yet" in check.text
    counts = {f.label: f.value for f in check.fields}
    assert counts["Cases to take over"] == "6" and counts["Of them open"] == "4" and counts["Persons"] == "8"
    # closed in 2015 (two years' retention) and 2014 (unfounded): the next retention run erases them
    assert counts["Closed cases past their retention period (erased at the next retention run; the report "
                  "figures stay)"] == "2"
    assert _count(svc, Case) == 0
    done = ok(svc, ADMIN, f"unit import cases path={path}")
    assert "6 cases taken over (KE-2014-0001, KE-2014-0002, KE-2015-0001" in done.text
    assert "delete the file" in done.text
    assert "010203" not in done.text
    with unit_of_work(svc.engine) as session:
        cases = {c.import_key: c for c in session.exec(select(Case))}
        assert all(c.taken_over_at is not None for c in cases.values())
        assert len(session.exec(select(ReportTakeover)).all()) == 6
        by_received = {c.received_at.date().isoformat(): c for c in cases.values()}
        family = by_received["2015-11-11"]  # received 12.11.2015 local midnight = 11 Nov 23:00 UTC
        assert family.state == "active" and family.responsible_org == "SOF" and family.owner_id is not None
        assert session.exec(select(func.count()).select_from(Subject).where(Subject.case_id == family.id)).one() == 3
        offers = session.exec(select(Offer.kind, Offer.state).where(Offer.case_id == family.id)
                              .order_by(col(Offer.id))).all()
        assert offers == [("mentor", "accepted"), ("parent_coach", "declined"), ("parent_course", "accepted")]
        assert sorted(session.exec(select(Engagement.state).where(Engagement.case_id == family.id))) == \
            ["active", "ended"]
        qualifying = by_received["2015-09-02"]
        assert qualifying.state == "qualifying" and qualifying.deadline_at > svc.clock.now()  # a window from now
        # no follow-up is due in the past: the declined 2015 offer's re-offers fell due long ago
        due = session.exec(select(FollowUp).where(col(FollowUp.state).in_(("pending", "sent")))).all()
        assert due and all(f.due_at > svc.clock.now() for f in due)
        assert {f.kind for f in due} >= {"visitation", "mentor_checkin"}
    out = tick(db_url, svc.clock.now())
    assert "overdue" not in out.lower() and "channel #secretariat" not in out
    second = ok(svc, ADMIN, f"unit import cases path={path}")
    assert "already taken over" in second.text and _count(svc, Case) == 6
    with unit_of_work(svc.engine) as session:
        k = kpi.compute(session, date(2014, 1, 1), date(2016, 12, 31), svc.clock.now(), svc.calendar().tz)
    assert k.concerns == 6 and k.taken_over == 6
    assert k.ratios["visitation"].den == 0 and k.ratios["visitation"].pending == 0  # left out of the target
    assert k.courses == 3  # referred: the family, the crime case and the closed psychiatric one
    shown = ok(svc, ADMIN, "report kpi from=2014-01-01 to=2016-12-31")
    assert "Of them taken over from earlier records: 6 cases" in shown.text
    show = ok(svc, ADMIN, f"case show {family.ref}")
    assert any(f.label == "Taken over" for f in show.fields)
    assert "referred before koordinator" in next(f.value for f in show.fields if f.label == "Visitation deadline")


def test_an_xlsx_with_date_cells_imports_like_the_csv(svc, tmp_path):
    from datetime import datetime

    seed_admin(svc)
    rows: list[dict[str, object]] = [dict(r) for r in clean_rows()[:2]]
    rows[0]["received"] = datetime(2015, 9, 3)
    rows[1]["received"] = date(2015, 10, 1)
    path = _write(tmp_path, "sager.xlsx", xlsx_bytes(rows))
    reply = ok(svc, ADMIN, f"unit import cases path={path}")
    assert "2 cases taken over" in reply.text
    with unit_of_work(svc.engine) as session:
        refs = sorted(session.exec(select(Case.ref)))
    assert refs == ["KE-2015-0001", "KE-2015-0002"]


def test_an_english_comma_file_without_bom_and_english_words_imports(svc, tmp_path):
    seed_admin(svc)
    rows = [{"case_no": "X1", "received": "2016-05-01", "state": "closed", "severity": "normal",
             "track": "adult", "closed": "2016-05-20", "close_reason": "unfounded", "age": "25+"}]
    path = _write(tmp_path, "cases.csv", csv_bytes(rows, danish=False))
    assert ok(svc, ADMIN, f"unit import cases path={path}").ok
    with unit_of_work(svc.engine) as session:
        case = session.exec(select(Case)).one()
    assert case.state == "closed" and case.close_reason == "unfounded" and case.taken_over_at is not None


def test_the_identifier_derives_the_pseudonym_and_is_stored_nowhere(svc, tmp_path):
    seed_admin(svc)
    path = _write(tmp_path, "sager.csv", csv_bytes(clean_rows()[:1]))
    ok(svc, ADMIN, f"unit import cases path={path}")
    # the same person, typed into a lookup, is found: the pseudonym came from the identifier
    result = submit(svc, ADMIN, "concern.lookup", {"identifier": "010203-1234", "purpose": "Kontrol af overtagelse"})
    assert result.reply is not None and "KE-2015-0001" in " ".join(f.value for f in result.reply.fields)
    with unit_of_work(svc.engine) as session:
        dump = " ".join(str(row) for model in (Case, Subject) for row in session.exec(select(model)))
    assert "010203" not in dump and "1234" not in dump
    assert all("010203" not in e.detail for e in audit_entries(svc))


def test_a_member_cannot_import_and_a_bad_file_is_a_clear_private_refusal(svc, tmp_path):
    seed_admin(svc)
    add_member(svc, "U_MEM", "member", "SSP")
    path = _write(tmp_path, "sager.csv", csv_bytes(clean_rows()))
    assert not run(svc, "U_MEM", f"unit import cases path={path}").ok
    junk = _write(tmp_path, "junk.csv", b"a;b;c\n1;2;3\n")
    reply = run(svc, ADMIN, f"unit import cases path={junk}")
    assert not reply.ok and "columns do not match the template" in reply.text and "Traceback" not in reply.text
    form = run(svc, ADMIN, "unit import cases").form  # typed bare: its form (the console asks for the path)
    assert form is not None and [(f.name, f.kind) for f in form.fields] == [("file", "file"), ("check", "select")]
    assert _count(svc, Case) == 0


def test_the_console_form_takes_the_file_by_its_path_and_asks_again_for_one_it_cannot_read(svc, tmp_path):
    import io

    from bot.console import Console

    seed_admin(svc)
    path = _write(tmp_path, "sager.xlsx", xlsx_bytes(clean_rows()))
    form = run(svc, ADMIN, "unit import cases").form
    assert form is not None
    out = io.StringIO()
    Console(svc, ADMIN, out, iter([str(tmp_path / "nowhere.csv"), "2", str(path)])).fill(form)
    assert "The file cannot be read" in out.getvalue()
    assert "6 cases taken over" in out.getvalue() and _count(svc, Case) == 6
    assert "010203" not in out.getvalue()
