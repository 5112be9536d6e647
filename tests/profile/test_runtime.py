"""The unit profile at runtime: working hours, holidays, language and time zone come from the active
profile (an explicitly set TIMEZONE / BOT_LANGUAGE / HOLIDAY_CATEGORIES wins), and an import applies without
a restart; org names in replies and forms are the profile's."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.slack.render import modal
from commands.context import Ctx
from commands.forms import submission as forms
from commands.profile import offered_orgs
from commands.reply import Invocation
from commands.router import TABLE
from commands.time.calendar import unit_calendar
from scheduler.jobs.followups import sweep
from storage.clock import FixedClock
from storage.db import unit_of_work
from storage.models import Case, FollowUp
from storage.profile import shipped, shipped_text
from storage.settings import Settings
from tests.commands.cmdkit import ADMIN, SEVERITY_HIGH_CONCERN, add_member, new_case, ok, outbox_messages, seed_admin
from tests.conftest import make_settings, make_svc

CPH = ZoneInfo("Europe/Copenhagen")
GENERIC = ('concern new severity=high track=child age=15-17 source=school basis=rpl115 '
           'summary="Udtaler støtte til IS"')


def local(*args: int, tz: ZoneInfo = CPH) -> datetime:
    return datetime(*args, tzinfo=tz).astimezone(UTC)


def variant(tmp_path: Path, name: str = "variant", **lines: str) -> Path:
    """Copenhagen's profile with some of its header lines changed (`language="en"` → `language: en`)."""
    text = shipped_text("copenhagen").replace("name: copenhagen", f"name: {name}", 1)
    for key, value in lines.items():
        old = next(line for line in text.splitlines() if line.startswith(f"{key}:"))
        text = text.replace(old, f"{key}: {value}", 1)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def unit_settings(db_url: str, **overrides: object) -> Settings:
    """As the tests' settings, but without BOT_LANGUAGE unless given: the profile decides."""
    settings = make_settings(db_url, **overrides)
    values = settings.model_dump(include=settings.model_fields_set - ({"bot_language"} - set(overrides)))
    return Settings(**values)


@pytest.fixture
def short_days(db_url, tmp_path, clock):
    path = variant(tmp_path, working_hours='{start: "09:00", end: "15:00"}',
                   holidays="{country: DK, categories: [public, optional]}")
    svc = make_svc(make_settings(db_url, unit_profile=str(path)), clock)
    seed_admin(svc)
    yield svc
    svc.engine.dispose()


def _visitation(svc) -> FollowUp:
    with unit_of_work(svc.engine) as session:
        return session.exec(select(FollowUp).where(FollowUp.kind == "visitation")).one()


def test_the_profiles_working_hours_and_holidays_move_a_visitation_reminder(short_days):
    svc = short_days
    svc.clock.instant = local(2026, 12, 22, 3, 30)  # Tuesday night: a 48-hour visitation warns after 36 hours
    new_case(svc)
    assert _visitation(svc).notify_at == local(2026, 12, 23, 15, 30)
    result = sweep(svc, local(2026, 12, 23, 15, 30))  # Wednesday 15:30: after the profile's 15:00
    assert (result.reminded, result.deferred) == (0, 1)
    # 24 December is an optional holiday, 25 and 26 public, 27 a Sunday: Monday at the profile's 09:00
    assert _visitation(svc).notify_at == local(2026, 12, 28, 9, 0)
    assert sweep(svc, local(2026, 12, 28, 8, 59)).reminded == 0
    assert sweep(svc, local(2026, 12, 28, 9, 0)).reminded == 1


def test_the_shipped_profile_delivers_the_same_reminder_at_once(svc):
    seed_admin(svc)
    svc.clock.instant = local(2026, 12, 22, 3, 30)
    new_case(svc)
    assert sweep(svc, local(2026, 12, 23, 15, 30)).reminded == 1  # inside 08:00–16:00, 23 December works


def test_an_explicit_environment_variable_overrides_the_profile(db_url, tmp_path, clock):
    path = variant(tmp_path, working_hours='{start: "09:00", end: "15:00"}',
                   holidays="{country: DK, categories: [public, optional]}", timezone="Atlantic/Faroe")
    profile = shipped("copenhagen").model_copy(update={"timezone": "Atlantic/Faroe", "language": "en"})
    cal = unit_calendar(Settings(unit_profile=str(path)), profile)
    assert (cal.tz.key, cal.lang) == ("Atlantic/Faroe", "en")
    cal = unit_calendar(Settings(timezone="Europe/Copenhagen", bot_language="da", holiday_categories="public"),
                        profile)
    assert (cal.tz.key, cal.lang, cal.categories) == ("Europe/Copenhagen", "da", ("public",))
    svc = make_svc(make_settings(db_url, unit_profile=str(path), holiday_categories="public"), clock)
    seed_admin(svc)
    svc.clock.instant = local(2026, 12, 22, 3, 30, tz=ZoneInfo("Atlantic/Faroe"))
    new_case(svc)
    sweep(svc, local(2026, 12, 23, 15, 30, tz=ZoneInfo("Atlantic/Faroe")))
    # HOLIDAY_CATEGORIES=public: 24 December works; the hours and the zone are still the profile's
    assert _visitation(svc).notify_at == local(2026, 12, 24, 9, 0, tz=ZoneInfo("Atlantic/Faroe"))
    svc.engine.dispose()


def test_a_profile_in_english_answers_in_english_and_an_import_switches_without_restart(db_url, tmp_path, clock):
    svc = make_svc(unit_settings(db_url), clock)  # copenhagen: Danish
    try:
        seed_admin(svc)
        assert svc.lang == "da"
        assert ok(svc, ADMIN, "case list").text.startswith("Ingen sager")
        path = variant(tmp_path, name="english", language="en")
        ok(svc, ADMIN, f"unit profile import path={path}")
        assert svc.lang == "en"  # the platforms' language: forgotten at the import's commit, read anew
        assert ok(svc, ADMIN, "case list").text.startswith("No cases")
        ref = new_case(svc)
        shown = ok(svc, ADMIN, f"case show {ref}")
        assert any(f.label == "Visitation deadline" for f in shown.fields)
    finally:
        svc.engine.dispose()


def test_a_profile_in_another_time_zone_shows_local_times_in_it(db_url, tmp_path):
    nuuk = ZoneInfo("America/Nuuk")
    path = variant(tmp_path, name="nuuk", timezone="America/Nuuk")
    svc = make_svc(make_settings(db_url, unit_profile=str(path)), FixedClock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC)))
    try:
        seed_admin(svc)
        reply = ok(svc, ADMIN, SEVERITY_HIGH_CONCERN)
        deadline = datetime(2026, 11, 25, 12, 0, tzinfo=UTC).astimezone(nuuk)
        assert f"{deadline:%-d %b %Y, %H:%M}" in reply.text  # 48 hours on, in Nuuk's time (UTC−2)
        assert "2026-11-25 12:00" not in reply.text and "2026-11-25 13:00" not in reply.text
        with unit_of_work(svc.engine) as session:
            case = session.exec(select(Case)).one()
            assert case.deadline_at.replace(tzinfo=UTC) == datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # stored UTC
    finally:
        svc.engine.dispose()


# -- org names -----------------------------------------------------------------------------------------------

@pytest.fixture
def generic(db_url, clock):
    svc = make_svc(make_settings(db_url, unit_profile="denmark-generic"), clock)
    seed_admin(svc)
    for user, role, org in (("U_SEC", "secretariat", "SEK"), ("U_INFO", "member", "INFOHUS"),
                            ("U_JOB", "member", "JOB")):
        add_member(svc, user, role, org)
    yield svc
    svc.engine.dispose()


def test_a_unit_on_denmark_generic_reads_its_own_org_names(generic):
    svc = generic
    assert "Police infohouse" in ok(svc, ADMIN, "unit members").text
    ref = new_case(svc, "U_INFO", GENERIC)
    ok(svc, "U_INFO", f"case checked {ref} org=INFOHUS found=no")
    ok(svc, "U_SEC", f"case qualify {ref} level=pre_emptive")
    referred = ok(svc, "U_SEC", f"case refer {ref} to=JOB owner=<@U_JOB>")
    assert "Jobcentre" in referred.text
    shown = ok(svc, "U_JOB", f"case show {ref}")
    assert next(f.value for f in shown.fields if f.label == "Responsible authority") == "Jobcentre"
    assert "Jobcentre" in ok(svc, "U_JOB", "case list").text
    notices = [reply.text for kind, target, reply in outbox_messages(svc) if "Jobcentre" in reply.text]
    assert notices  # the unit channel's post and the owner's DM name the org too
    assert offered_orgs(svc)["INFOHUS"] == "Police infohouse"
    assert offered_orgs(svc, "da")["JOB"] == "Jobcentret"
    da = dataclasses.replace(svc, settings=svc.settings.model_copy(update={"bot_language": "da"}))
    with unit_of_work(da.engine) as session:  # the referral form (commands/forms/table.py) names the orgs
        form = forms.opened(Ctx(da, session, Invocation("x", "")), TABLE.command_forms["case.refer"], None,
                            {"case": ref})
    options = modal(form, "da", {})["blocks"][0]["element"]["options"]
    assert {o["value"]: o["text"]["text"] for o in options}["SOC"] == "Socialforvaltningen"


def test_an_archived_org_is_still_named_on_its_cases(generic, tmp_path):
    svc = generic
    ref = new_case(svc, "U_INFO", GENERIC)
    ok(svc, "U_SEC", f"case qualify {ref} level=pre_emptive")
    ok(svc, "U_SEC", f"case refer {ref} to=JOB owner=<@U_JOB>")
    text = shipped_text("denmark-generic")
    line = next(line for line in text.splitlines() if "code: JOB" in line)
    path = tmp_path / "no-job.yaml"
    path.write_text(text.replace(line + "\n", "").replace("responsible: JOB", "responsible: owner"),
                    encoding="utf-8")
    imported = ok(svc, ADMIN, f"unit profile import path={path}")
    assert any("JOB" in f.value for f in imported.fields)  # kept, archived
    assert "JOB" not in offered_orgs(svc)
    shown = ok(svc, "U_JOB", f"case show {ref}")
    assert next(f.value for f in shown.fields if f.label == "Responsible authority") == "Jobcentre"


@pytest.mark.parametrize("old, new, words", [
    ('working_hours: {start: "08:00", end: "16:00"}', 'working_hours: {start: "16:00", end: "08:00"}',
     "end after they start"),
    ("holidays: {country: DK,", "holidays: {country: XX,", "unknown holiday country"),
])
def test_a_calendar_the_runtime_cannot_use_is_refused_with_its_line(old, new, words):
    from storage.profile import ProfileError, load_text

    text = shipped_text("copenhagen")
    assert old in text
    with pytest.raises(ProfileError) as err:
        load_text(text.replace(old, new, 1))
    assert words in str(err.value) and "line " in str(err.value)


def test_the_platforms_language_is_read_without_waiting_for_the_callers_own_write(db_url, tmp_path, clock):
    import time

    from storage.models import Member

    path = variant(tmp_path, name="english", language="en")
    svc = make_svc(unit_settings(db_url, unit_profile=str(path)), clock)
    try:
        with unit_of_work(svc.engine) as session:  # holds SQLite's write lock, as the agenda's job does
            session.add(Member(user_id="U_W", platform="console", role="member", org="SSP", display_name="W",
                               created_at=clock.now()))
            session.flush()
            started = time.monotonic()
            assert svc.lang == "en"  # the profile's, not UNIT_PROFILE's fallback after a busy timeout
            assert time.monotonic() - started < 5
    finally:
        svc.engine.dispose()
