"""`python -m bot console` as a newcomer runs it: a real subprocess, a pipe, a fresh directory, no keys."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from commands.time.timefmt import when

ROOT = Path(__file__).resolve().parents[2]
CPH = ZoneInfo("Europe/Copenhagen")
ACCEPTANCE = ('concern new severity=high track=child age=15-17 source=school district=Nørrebro basis=rpl115 '
              'summary="Udtaler støtte til IS"\ncase list\n')
DROPPED = ("PSEUDONYM_KEY", "DATA_KEY", "DATABASE_URL", "TEST_DATABASE_URL", "ADMIN_USERS", "BOT_LANGUAGE",
           "KEYS_FILE", "KOORDINATOR_DEV", "FILES_DIR")


def clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in DROPPED and not k.startswith(("SLACK_", "TEAMS_"))}
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite:///{tmp / 'koordinator.db'}", PYTHONIOENCODING="utf-8",
               **extra)
    return env


def console(tmp: Path, stdin: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "console", *args], input=stdin, cwd=tmp,
                          env=clean_env(tmp, **env), capture_output=True, text=True, timeout=120)


def cases_in(tmp: Path) -> int:
    with sqlite3.connect(tmp / "koordinator.db") as conn:
        return conn.execute("SELECT count(*) FROM cases").fetchone()[0]


def test_the_acceptance_line_through_a_real_pipe(tmp_path):
    before = datetime.now(CPH)
    printf = ACCEPTANCE.replace("\n", "\\n").replace('"', '\\"')
    done = subprocess.run(["bash", "-c", f'printf "{printf}" | "{sys.executable}" -m bot console'],
                          cwd=tmp_path, env=clean_env(tmp_path), capture_output=True, text=True, timeout=120)
    after = datetime.now(CPH)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout and "Traceback" not in done.stderr
    years = {before.year, after.year}
    match = re.search(r"Registreret som (KE-(\d{4})-0001)\. Visitationsfrist \(48 t\): (\d{1,2}\. \w+\.? \d{4} kl\. "
                      r"\d\d\.\d\d)\.", done.stdout)
    assert match, done.stdout
    ref, year, deadline = match.group(1), int(match.group(2)), match.group(3)
    assert year in years
    minute = (before + timedelta(hours=48)).replace(second=0, microsecond=0)
    spread = int((after - before).total_seconds() // 60) + 2
    possible = {when(minute + timedelta(minutes=m), "da") for m in range(spread)}
    assert deadline in possible, (deadline, possible)  # written the Danish way: `3. dec. 2026 kl. 19.37`
    listing = done.stdout[done.stdout.index("> case list"):]
    left = r"\(om (2 dage|1 dag og 2[34] timer)\)"
    assert re.search(rf"{ref} · ny · høj · barn · — · 0 d · frist {re.escape(deadline)} {left}", listing)
    # no keys in the environment: generated once into a private file, with a warning
    keys = tmp_path / "koordinator.keys.json"
    assert keys.exists() and stat.S_IMODE(keys.stat().st_mode) == 0o600
    assert "PSEUDONYM_KEY" in done.stderr and str(keys) in done.stderr
    assert cases_in(tmp_path) == 1


def test_a_cpr_number_in_the_summary_is_refused_and_nothing_is_stored(tmp_path):
    stdin = ACCEPTANCE.replace("Udtaler støtte til IS", "Udtaler støtte til IS, cpr 010203-1234")
    done = console(tmp_path, stdin)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "Afvist — intet er gemt" in done.stdout and "et CPR-nummer" in done.stdout
    assert "identifikationsfeltet" in done.stdout  # says where it belongs instead
    assert "Registreret som" not in done.stdout
    assert "Ingen sager (åbne)." in done.stdout
    assert cases_in(tmp_path) == 0
    for path in tmp_path.glob("koordinator.db*"):
        data = path.read_bytes()
        assert b"010203" not in data and b"0102031234" not in data


def test_english_and_a_second_run_on_the_same_database(tmp_path):
    first = console(tmp_path, ACCEPTANCE, BOT_LANGUAGE="en")
    assert first.returncode == 0 and "Empty database: console was created as admin." in first.stdout
    ref = re.search(r"Registered as (KE-\d{4}-0001)", first.stdout).group(1)
    again = console(tmp_path, f"case show {ref}\nunit add <@ann> role=mentor org=EKP\n", BOT_LANGUAGE="en")
    assert again.returncode == 0, again.stderr
    assert "Empty database" not in again.stdout
    assert "Udtaler støtte til IS" in again.stdout  # the generated keys were kept and still decrypt
    assert "DM to @ann" in again.stdout
    stranger = console(tmp_path, "case list\n", "--as", "mallory", BOT_LANGUAGE="en")
    assert stranger.returncode == 0
    assert "you are mallory" in stranger.stdout
    assert "You are not a member of the coordination unit" in stranger.stdout
    mentor = console(tmp_path, f"case show {ref}\n", "--as", "ann", BOT_LANGUAGE="en")
    assert f"You have no access to {ref}" in mentor.stdout and "Udtaler" not in mentor.stdout


@pytest.mark.parametrize("stdin", ["", '\n\n# a comment\ncase note "unclosed\n\x00\x01\nhelp\nconcern\n'])
def test_odd_input_ends_cleanly(tmp_path, stdin):
    done = console(tmp_path, stdin)
    assert done.returncode == 0
    assert "Traceback" not in done.stdout + done.stderr


def test_a_form_cut_short_by_end_of_input_stores_nothing(tmp_path):
    done = console(tmp_path, "concern\nhigh\nchild\n", BOT_LANGUAGE="en")
    assert done.returncode == 0 and "Traceback" not in done.stdout + done.stderr
    assert "Form cancelled; nothing was stored." in done.stdout
    assert cases_in(tmp_path) == 0


def test_the_annual_report_pdf_is_written_to_the_files_folder(tmp_path):
    """The README's console on SQLite: `report annual … format=pdf` writes a PDF with its charts to
    ./koordinator-files/ and prints the path; asking again never overwrites the first file (the very same bytes
    are the same file: one copy)."""
    done = console(tmp_path, ACCEPTANCE + "report annual year=2026 format=pdf\nreport annual year=2026 format=pdf\n")
    assert done.returncode == 0 and "Traceback" not in done.stderr
    first, second = tmp_path / "koordinator-files" / "aarsrapport-2026.pdf", \
        tmp_path / "koordinator-files" / "aarsrapport-2026-2.pdf"
    assert "koordinator-files/aarsrapport-2026.pdf" in done.stdout
    again = "koordinator-files/aarsrapport-2026-2.pdf" if second.exists() else "koordinator-files/aarsrapport-2026.pdf"
    assert done.stdout.count(again) == (1 if second.exists() else 2)  # made in another second: another file
    assert first.read_bytes().startswith(b"%PDF")
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    from pypdf import PdfReader

    assert len([i for page in PdfReader(first).pages for i in page.images]) == 3
