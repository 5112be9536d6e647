"""The unit profile: the shipped ones say what the code used to, errors name the line, import makes a new
version (audited, old and new), a malformed one changes nothing, and a unit on `denmark-generic` works with
its own partners."""

from __future__ import annotations

from pathlib import Path

import pytest

from commands.meetings.agenda_build import PROPOSALS
from commands.reports.kpi import TARGETS
from storage.db import unit_of_work
from storage.enums import CHECKING_ORGS, VISITATION_HOURS, Org
from storage.profile import ProfileError, load_text, shipped, shipped_text, store
from storage.settings import DEFAULT_DISTRICTS, DEFAULT_INDICATORS
from tests.commands.cmdkit import ADMIN, add_member, audit_entries, ok, row_counts, run, seed_admin
from tests.conftest import make_settings, make_svc

GENERIC_CONCERN = ('concern new severity=high track=child age=15-17 source=school basis=rpl115 '
                   'summary="Udtaler støtte til IS"')


def test_copenhagen_is_todays_behaviour():
    p = shipped("copenhagen")
    assert p.org_codes() == tuple(o.value for o in Org)
    assert p.checking_orgs == tuple(o.value for o in CHECKING_ORGS)
    assert {s.value: h for s, h in p.visitation_hours.items()} == {s.value: h for s, h in VISITATION_HOURS.items()}
    assert p.districts == DEFAULT_DISTRICTS and p.indicators == DEFAULT_INDICATORS
    assert p.proposals() == PROPOSALS
    assert p.kpi_targets == TARGETS
    assert p.secretariat_org == "BIF"


def test_denmark_generic_has_its_own_partners_and_no_districts():
    p = shipped("denmark-generic")
    assert {"SSP", "INFOHUS", "SOC", "JOB", "PSYK"} <= set(p.org_codes())
    assert "VINK" not in p.org_codes() and p.districts == ()
    assert set(p.procedures) == {"child", "adult", "adult_psych", "crime"}


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.mark.parametrize("old, new, needle, words", [
    ("responsible: VINK, anchor: qualified, due: 5wd", "responsible: NOPE, anchor: qualified, due: 5wd",
     "responsible: NOPE", "`NOPE` is neither a role"),
    ("responsible: VINK, anchor: qualified, due: 5wd", "responsible: VINK, anchor: qualified, due: -5d",
     "due: -5d", "cannot be negative"),
    ("Bekymringssamtale (VINK)", "Samtale med 010190-1234", "010190-1234", "personal data"),
    ("  - {code: SOF,", "  - {code: SOF,,", "code: SOF,,", "not valid YAML"),
    ("visitation_hours: {critical: 24, high: 48, normal: 72}", "visitation_hours: {critical: 24, high: 48}",
     "visitation_hours:", "every severity"),
])
def test_a_bad_profile_is_refused_with_its_line(old, new, needle, words):
    text = shipped_text("copenhagen")
    assert old in text
    bad = text.replace(old, new, 1)
    with pytest.raises(ProfileError) as err:
        load_text(bad)
    assert words in err.value.message
    assert err.value.line == _line_of(bad, needle)


def _write(tmp_path: Path, text: str, name: str = "profile.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_export_then_import_makes_version_2_audited_with_old_and_new(svc, tmp_path):
    seed_admin(svc)
    exported = ok(svc, ADMIN, "unit profile export")
    text = exported.attachments[0].data.decode("utf-8")
    assert text == shipped_text("copenhagen") and exported.attachments[0].filename == "unit-profile-v1.yaml"
    changed = text.replace("visitation_hours: {critical: 24, high: 48, normal: 72}",
                           "visitation_hours: {critical: 12, high: 48, normal: 72}")
    reply = ok(svc, ADMIN, f"unit profile import path={_write(tmp_path, changed)}")
    assert "version 2" in reply.text
    entry = [e for e in audit_entries(svc) if e.action == "unit.profile.import"][-1]
    assert '"old": 1' in entry.detail and '"new": 2' in entry.detail
    with unit_of_work(svc.engine) as session:
        current = store.current(session, svc.settings)
    assert current.version == 2 and current.profile.visitation("critical") == 12
    shown = ok(svc, ADMIN, "unit profile show")
    assert "version 2" in (shown.title or "") and "critical: 12 hours" in "\n".join(f.value for f in shown.fields)
    again = run(svc, ADMIN, f"unit profile import path={_write(tmp_path, changed)}")
    assert not again.ok and "same as version 2" in again.text


@pytest.mark.parametrize("old, new, needle", [
    ("responsible: VINK, anchor: qualified, due: 5wd", "responsible: NOPE, anchor: qualified, due: 5wd",
     "responsible: NOPE"),
    ("responsible: VINK, anchor: qualified, due: 5wd", "responsible: VINK, anchor: qualified, due: -1d",
     "due: -1d"),
    ("Bekymringssamtale (VINK)", "Samtale 0101901234", "0101901234"),
    ("name: copenhagen", "name: copenhagen: x", "name: copenhagen: x"),
])
def test_a_malformed_import_names_the_line_and_changes_nothing(svc, tmp_path, old, new, needle):
    seed_admin(svc)
    bad = shipped_text("copenhagen").replace(old, new, 1)
    path = _write(tmp_path, bad)
    before = row_counts(svc)
    reply = run(svc, ADMIN, f"unit profile import path={path}")
    assert not reply.ok and reply.private
    line = _line_of(bad, needle)
    assert f"line {line}" in reply.text and "Nothing was changed" in reply.text
    assert "unit profile import" in reply.text  # the usage line
    after = row_counts(svc)
    assert {k: v for k, v in after.items() if k != "auditentry"} == \
           {k: v for k, v in before.items() if k != "auditentry"}
    assert after["unit_profile"] == 0


def test_profile_commands_are_for_admins_and_paths_for_the_console(svc, tmp_path):
    seed_admin(svc)
    add_member(svc, "U_SEC", "secretariat", "BIF")
    assert not run(svc, "U_SEC", "unit profile show").ok
    from commands.reply import Invocation
    from commands.router import dispatch
    slack = dispatch(svc, Invocation(ADMIN, "unit profile import path=/etc/passwd", platform="slack"))
    assert not slack.ok and "console only" in slack.text
    form = dispatch(svc, Invocation(ADMIN, "unit profile import", platform="slack"))
    assert form.ok and form.form is not None and form.form.form_id == "profile.import"


def test_the_import_form_takes_the_yaml_and_reports_errors_on_the_field(svc):
    from tests.commands.cmdkit import submit
    seed_admin(svc)
    bad = shipped_text("copenhagen").replace("due: 5wd", "due: -5d", 1)
    result = submit(svc, ADMIN, "profile.import", {"yaml": bad})
    assert result.errors and "cannot be negative" in result.errors["yaml"]
    good = shipped_text("copenhagen").replace("normal: 72}", "normal: 96}", 1)
    result = submit(svc, ADMIN, "profile.import", {"yaml": good})
    assert result.reply is not None and result.reply.ok and "version 2" in result.reply.text


def test_removing_an_org_in_use_archives_it(svc, tmp_path):
    seed_admin(svc)
    add_member(svc, "U_VINK", "member", "VINK")
    vink = '  - {code: VINK, name: {da: "VINK", en: "VINK"}, checks_registers: true}\n'
    text = shipped_text("copenhagen").replace(vink, "")
    text = text.replace("responsible: VINK", "responsible: SSP").replace("Østerbro, ", "")
    reply = ok(svc, ADMIN, f"unit profile import path={_write(tmp_path, text)}")
    assert "VINK" in "\n".join(f.value for f in reply.fields)
    with unit_of_work(svc.engine) as session:
        profile = store.profile(session, svc.settings)
    assert profile.org("VINK").archived and "VINK" not in profile.org_codes()
    assert "Østerbro" not in profile.districts  # no case used it: simply gone
    refused = run(svc, ADMIN, "unit add <@U_NEW> role=member org=VINK")
    assert not refused.ok and "VINK" in refused.text
    shown = ok(svc, ADMIN, "unit profile show")
    assert "`VINK` – VINK" in shown.fields[0].value and "archived" in shown.fields[0].value


def test_a_unit_on_denmark_generic_runs_a_concern_with_its_own_orgs(db_url, clock):
    svc = make_svc(make_settings(db_url, unit_profile="denmark-generic"), clock)
    try:
        seed_admin(svc)
        add_member(svc, "U_INFO", "member", "INFOHUS")
        assert not run(svc, ADMIN, "unit add <@U_X> role=member org=VINK").ok
        reply = ok(svc, "U_INFO", GENERIC_CONCERN)
        ref = reply.text.split("KE-")[1][:9]
        ref = "KE-" + ref
        qualified = ok(svc, "U_INFO", f"case qualify {ref} level=preventive")
        assert "SSP, Police infohouse, Social services" in qualified.fields[0].value  # the profile's names
        ok(svc, "U_INFO", f"case checked {ref} org=infohus found=no")
        bad = run(svc, "U_INFO", f"case refer {ref} to=VINK")
        assert not bad.ok and "SOC" in bad.text
        referred = ok(svc, "U_INFO", f"case refer {ref} to=SOC")
        assert "Social services" in referred.text
        assert not run(svc, "U_INFO", GENERIC_CONCERN + " district=Nørrebro").ok
    finally:
        svc.engine.dispose()


def test_the_agenda_proposes_the_generic_units_ad_hoc_participants(db_url, clock):
    svc = make_svc(make_settings(db_url, unit_profile="denmark-generic"), clock)
    try:
        seed_admin(svc)
        add_member(svc, "U_SEC", "secretariat", "SEK")
        child = "KE-" + ok(svc, "U_SEC", GENERIC_CONCERN).text.split("KE-")[1][:9]
        adult = "KE-" + ok(svc, "U_SEC", GENERIC_CONCERN.replace("track=child age=15-17", "track=adult age=25+")
                           ).text.split("KE-")[1][:9]
        meeting = ok(svc, "U_SEC", f'meeting adhoc when="2026-11-24 14:00" duration=60m topic="Akut" '
                                   f"cases={child},{adult}")
        ref = "M-" + meeting.text.split("M-")[1][:8]
        agenda = ok(svc, "U_SEC", f"agenda {ref}")
        text = "\n".join([agenda.text, *(f"{f.label} {f.value}" for f in agenda.fields)])
        assert "Jobcentre" in text and "an adult case is on the agenda" in text
        assert "BUF" not in text and "PSYCH" not in text
    finally:
        svc.engine.dispose()


def test_the_export_footer_comes_from_the_profiles_legal_bases():
    from commands.documents import footer_text
    from commands.messages import t

    for lang in ("da", "en"):
        assert footer_text(lang, shipped("copenhagen")) == t(lang, "export.footer") == footer_text(lang)
    own = load_text(shipped_text("copenhagen").replace("must not be used for any other purpose.",
                                                       "serves the unit only."))
    assert footer_text("en", own).endswith("serves the unit only.")
