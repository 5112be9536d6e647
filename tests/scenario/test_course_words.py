"""A whole course in the console, in Danish and in English, read as its readers read it: concern → qualify →
checks → refer → offers → engagement → mentor log → follow-ups → meeting, agenda, minutes → close → reports →
subject export → unit audit → profile show → help for every command. Every reply, DM and channel post is
scanned for what must never reach a reader: the command language's codes as words (track, severity, state,
source, org, reason, kind …), Python literals, mentions left as `<@…>` text, key=value debris and unfilled
placeholders. Command hints — the text inside backticks, after "Brug:"/"Usage:", the commands on buttons, the
choices help lists as `code (word)` — are the command language and may hold codes.

The files the course writes (agenda, minutes, reports, the subject access letter: Markdown, CSV, PDF text) are
scanned the same way; the export writers are the "documents" helper's (issue 20, part 2), so those checks are
marked xfail until that work is merged."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from commands.messages import choice, kinds, label
from commands.router import TABLE
from storage.clock import FixedClock
from storage.db import migrate, pg_schema
from storage.profile import store as profile_store
from tests.conftest import PG_URL, ConsoleDriver, make_settings, make_svc

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 10:00 in Copenhagen
FATHER, SON = "150578-1235", "030810-4321"


@dataclass(frozen=True)
class Unit:
    """The orgs a course needs, as a unit's profile names them."""

    profile: str
    secretariat: str
    police: str
    social: str
    other: str
    district: str


UNITS = {"copenhagen": Unit("copenhagen", "BIF", "POLICE", "SOF", "EKP", "Nørrebro"),
         "denmark-generic": Unit("denmark-generic", "SEK", "INFOHUS", "SOC", "OTHER", "")}
COURSES = [("da", "copenhagen"), ("en", "denmark-generic")]


@dataclass
class Course:
    lang: str
    unit: Unit
    outputs: list[str] = field(default_factory=list)
    typed: list[str] = field(default_factory=list)  # what was typed into forms: the reader's own answers
    files: Path = Path()
    org_words: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(self.outputs)


def _found(pattern: str, text: str, default: str = "") -> str:
    match = re.search(pattern, text)
    return match.group(1) if match else default


def run_course(lang: str, unit: Unit, db_url: str, files: Path) -> Course:
    svc = make_svc(make_settings(db_url, bot_language=lang, unit_profile=unit.profile, files_dir=str(files)),
                   FixedClock(START))
    clock: FixedClock = svc.clock  # type: ignore[assignment]
    console = ConsoleDriver(svc)
    course = Course(lang, unit, files=files)

    def say(user: str, *lines: str) -> str:
        out = console.run(f"usr_{user}", *lines)
        course.outputs.append(out)
        return out

    def form(user: str, command: str, *answers: str) -> str:
        course.typed += [a for a in answers if a]
        return say(user, command, *answers)

    def later(**delta: float) -> None:
        clock.instant = clock.instant + timedelta(**delta)

    course.outputs.append(console.run("usr_admin", "help", bootstrap=True))
    members = [("bif", "secretariat", unit.secretariat), ("ssp", "member", "SSP"), ("police", "member", unit.police),
               ("sof", "member", unit.social), ("mentor", "mentor", unit.other)]
    for user, role, org in members:
        say("admin", f"unit add @usr_{user} role={role} org={org}")
    if unit.profile == "copenhagen":  # the work procedures on, as a unit that uses checklists
        exported = say("admin", "unit profile export")
        path = Path(_found(r"→ (\S+\.yaml)", exported))
        assert path.is_file(), exported
        changed = path.read_text(encoding="utf-8").replace("procedures_active: false", "procedures_active: true")
        on = files / "profile-on.yaml"
        on.write_text(changed, encoding="utf-8")
        say("admin", f"unit profile import path={on}")
    from tests.scenario.seed import _intake_fields

    intake = {"severity": "high", "track": "child", "source": "school", "district": unit.district,
              "basis": "rpl115", "indicators": "extremist_statements,isolation", "received": "",
              "summary": "Eleven udtaler støtte til vold og isolerer sig.", "subject1_age": "15-17",
              "subject1_identifier": SON, "subject2_age": "25+", "subject2_identifier": FATHER,
              "subject3_age": "", "subject3_identifier": ""}
    form("ssp", "concern", *(intake.get(f.name, "") for f in _intake_fields(svc)))
    district = f" district={unit.district}" if unit.district else ""
    say("police", f"concern new severity=critical track=adult age=18-24 source=police{district} basis=rpl115 "
                  'summary="Opslag med trusler på nettet"')
    ref, other = "KE-2026-0001", "KE-2026-0002"
    shown = say("bif", f"case show {ref}", "case list")
    son, father = re.findall(r": ([0-9A-Z]{4}-[0-9A-Z]{4}) · ", shown)[:2]
    say("bif", f"case qualify {ref}", f"case qualify {ref} level=pre_emptive")
    say("ssp", f"case checked {ref} org=SSP found=no")
    say("police", f"case checked {ref} org={unit.police} found=yes")
    say("sof", f"case checked {ref} org={unit.social} found=no")
    say("bif", f'case note {ref} "Mette fra SSP har talt med skolen."')
    say("bif", f"case refer {ref} to={unit.social} owner=@usr_sof")
    say("sof", f"case steps {ref}", f"case step {ref} 1 done", f'case step {ref} 2 skip reason="Ikke relevant"',
        f"case steps {ref}")
    say("sof", f"case offer {ref} subject={son} kind=mentor", f"case respond {ref} subject={son} kind=mentor accepted",
        f"case assign {ref} subject={son} kind=mentor mentor=@usr_mentor",
        f"case offer {ref} subject={father} kind=parent_coach",
        f"case respond {ref} subject={father} kind=parent_coach declined")
    later(hours=2)
    say("mentor", f'mentor log {ref} subject={son} "Samtale om skole og fritid"', f"case show {ref}")
    added = say("sof", f'followup add {ref} due=2026-12-01 "Ring til skolen"', "followup list all")
    fid = _found(r"\b(F-\d+)\b", added, "F-1")
    say("sof", f"followup snooze {fid} 1d", "followup list mine")
    say("bif", 'meeting series add name="Koordineringsmøde" rrule="FREQ=WEEKLY;BYDAY=TH" time=09:00 duration=90m',
        "meeting list", "agenda next", f"agenda add M-2026-001 {ref}", "agenda publish M-2026-001")
    later(days=1)  # Tuesday: the critical concern's visitation deadline has passed
    say("bif", "case list overdue", f"case show {other}", "followup list all")
    clock.instant = datetime(2026, 11, 26, 8, 30, tzinfo=UTC)  # Thursday 09:30, in the meeting
    say("bif", f'minutes {ref} "Mentorforløbet fortsætter; status om en måned" due=2026-12-17',
        f'minutes {other} "Politiet følger op"', "meeting close M-2026-001", "minutes show M-2026-001")
    say("sof", f"followup done {fid}")
    later(days=9)
    say("mentor", f"case show {ref}")
    say("sof", f"mentor end {ref} subject={son} result=completed", f"case close {ref} reason=completed force=yes",
        f"case close {ref} reason=completed", f"case show {ref}")
    say("bif", f"case refer {other} to={unit.police}", "case list all", "followup list all", "unit retention")
    say("admin", "report kpi year=2026", "report annual year=2026 format=md", "report annual year=2026 format=csv",
        "report annual year=2026 format=pdf")
    form("admin", "subject export", SON, "Indsigtsanmodning fra personen selv")
    say("admin", f'case hold {ref} reason="Indsigtsanmodning behandles"', f"case show {ref}", "case list closed",
        f"case release {ref}")
    form("ssp", "concern lookup", FATHER, "Tjek før mødet")
    say("bif", f"case qualify {other} level=preventive", f"case track {other} track=crime", f"case show {other}")
    adhoc = say("bif", f'meeting adhoc when="2026-12-08 13:00" duration=60m topic="Ekstra møde" cases={other}')
    meeting = _found(r"\b(M-2026-\d{3})\b", adhoc, "M-2026-099")
    say("bif", f"meeting invite {meeting} @usr_ssp", f'meeting move {meeting} when="2026-12-08 14:00"',
        f"meeting cancel {meeting}", "meeting list")
    say("admin", f"unit audit {ref}", "unit audit verify", "unit profile show", "unit members")
    say("admin", *(f"help {name}" for name in sorted({c.name for c in TABLE.commands.values()})))
    say("admin", "unit remove @usr_police", "unit members")
    with svc.engine.connect():
        pass
    from storage.db import unit_of_work

    with unit_of_work(svc.engine) as session:
        profile = profile_store.profile(session, svc.settings)
        course.org_words = {o.code: o.name.get(lang) or o.name.get("da") or o.code for o in profile.orgs}
    svc.engine.dispose()
    return course


@pytest.fixture(scope="module", params=COURSES, ids=[f"{lang}-{profile}" for lang, profile in COURSES])
def course(request: pytest.FixtureRequest, _template: str, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Course]:
    lang, profile = request.param
    folder = tmp_path_factory.mktemp(f"course-{lang}")
    if PG_URL:
        with pg_schema(PG_URL, f"course_{lang}") as url:
            migrate(url)
            yield run_course(lang, UNITS[profile], url, folder / "files")
        return
    db = folder / "koordinator.db"
    shutil.copy(_template, db)
    yield run_course(lang, UNITS[profile], f"sqlite:///{db}", folder / "files")


# --- what a reader must never see ------------------------------------------------------------------------

NOT_CODES = {"event_key"}  # the names of an event's details: labels, not codes
# vocabularies outside the catalogs: the step roles, a follow-up kind, a profile key
EXTRA_CODES = {"da": ("owner", "secretariat", "mentor_checkin", "procedures_active")}
LITERALS = re.compile(r"(?<![\w`])(?:True|False|None)(?![\w`])|\[\]|\{\}|<@|\{[a-z_]+\}")
DEBRIS = re.compile(r"(?<![\w`/.-])[a-z_]{2,}=[^\s]")


def code_patterns(course: Course) -> dict[str, re.Pattern[str]]:
    """Every code whose word in the course's language differs from it, as a whole-word pattern."""
    found: dict[str, re.Pattern[str]] = {}
    for kind, codes in kinds().items():
        if kind in NOT_CODES:
            continue
        for code in codes:
            word = course.org_words.get(code, "") if kind == "org" else label(course.lang, kind, code)
            if kind == "org" and code not in course.org_words:
                continue
            if word.lower() == code.lower() or word.lower().startswith(code.lower() + " ") or len(code) < 3:
                continue
            if course.lang == "en" and code.isalpha() and code.islower():
                continue  # an English word ("checked", "step", "school"): the code is the language's own word
            found[f"{kind}:{code}"] = re.compile(rf"(?<![\w@/.-]){re.escape(code)}(?![\w-])")
    for code in EXTRA_CODES.get(course.lang, ()):
        found[f"code:{code}"] = re.compile(rf"(?<![\w@/.-]){re.escape(code)}(?![\w-])")
    return found


def readable(course: Course, text: str) -> str:
    """What a reader reads as prose: not the echoed commands, command hints, button commands, help's choice
    lists, form answers the reader typed, mentions, file paths."""
    lines = []
    for line in text.splitlines():
        body = line.lstrip("│ ").strip()
        if line.startswith("> ") or body.startswith(("Brug:", "Usage:")):
            continue
        line = re.split(r"\b(?:Brug|Usage): ", line)[0]
        lines.append(line)
    text = "\n".join(lines)
    for answer in sorted(course.typed, key=len, reverse=True):
        text = text.replace(f": {answer}\n", ":\n")
    text = re.sub(r"`[^`\n]*`", "", text)
    text = re.sub(r"== [a-z ]+ ==", "", text)  # `help case close` is titled with the command
    text = re.sub(r"\[([^\]:]*): [^\]]*\]", r"[\1]", text)  # [Vis: case show KE-…]
    text = re.sub(r"\[[^\]]*=[^\]]*\]", "", text)  # a form's numbered choices [valg: 1=Barn, 2=…]
    for kind, codes in kinds().items():  # help and usage errors list a choice as the code with its word
        for code in codes:
            listed = choice(course.lang, kind, code)
            if listed != code:
                text = text.replace(listed, "")
    text = re.sub(r"(?m)^(│ )?\*?[a-z]+\*? — ", r"\1", text)  # help's groups, by the word a user types
    for code, name in course.org_words.items():
        text = text.replace(f"{code} ({name})", "")
    text = re.sub(r"(?:→ |\s)/\S+", " ", text)  # saved file paths
    return re.sub(r"@?usr_\w+", "", text)


def leaks(course: Course, text: str) -> list[str]:
    prose = readable(course, text)
    shown = []
    for what, pattern in {**code_patterns(course), "literal": LITERALS, "key=value": DEBRIS}.items():
        for match in pattern.finditer(prose):
            shown.append(f"{what}: …{prose[max(0, match.start() - 70):match.end() + 30]!r}")
    return shown


def test_the_course_ran_as_a_unit_runs_it(course: Course) -> None:
    text = course.text
    assert "Traceback" not in text and "fejl-id" not in text and "error id" not in text
    assert text.count("KE-2026-0001") > 20 and "M-2026-001" in text
    words = {"da": ("Bekymringen er modtaget", "oprettede sagen", "har tjekket sine registre"),
             "en": ("Concern received", "registered the case", "checked its registers")}[course.lang]
    for expected in words:
        assert expected in text, expected


def test_every_reply_dm_and_channel_post_reads_in_words(course: Course) -> None:
    found = leaks(course, course.text)
    assert not found, "\n".join(found[:40])


def test_help_lists_no_choices_for_free_text_dates_or_people(course: Course) -> None:
    text = course.text
    hold = text[text.index("> help case hold"):text.index("> help case list")]
    kpi = text[text.index("> help report kpi"):]
    kpi = kpi[:kpi.index("> help", 5)]
    assert "`reason=`" not in hold and "`to=`" not in kpi


def _document_texts(course: Course) -> dict[str, str]:
    from pypdf import PdfReader

    texts = {}
    for path in sorted(course.files.glob("*")):
        if path.suffix in (".md", ".csv"):
            texts[path.name] = path.read_text(encoding="utf-8-sig")
        elif path.suffix == ".pdf":
            texts[path.name] = "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    return texts


def test_every_file_the_course_wrote_reads_in_words(course: Course) -> None:
    texts = _document_texts(course)
    assert {".md", ".csv", ".pdf"} <= {Path(name).suffix for name in texts}
    found = [f"{name}: {leak}" for name, text in texts.items() for leak in leaks(course, text)]
    assert not found, "\n".join(found[:40])
