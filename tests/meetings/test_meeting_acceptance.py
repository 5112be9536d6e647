"""The issue's acceptance lines, typed into the console (the driver, and a real `python -m bot console` pipe)."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from pathlib import Path

from commands.time.calendar import is_holiday
from tests.meetings.mtkit import seed

ROOT = Path(__file__).resolve().parents[2]
SERIES_LINE = ('meeting series add name="Koordineringsmøde" rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH" time=09:00 '
               "duration=90m holidays=skip")
CONCERNS = ('concern new severity=high track=child age=15-17 source=school district=Nørrebro basis=rpl115 '
            'summary="Udtaler støtte til IS"',
            'concern new severity=normal track=adult age=25+ source=police district=Valby basis=rpl115 '
            'summary="Deler propaganda online"')
# `M-2026-001 · Thu 26 Nov 2026, 09:00–10:30 · …` (en), `M-2026-001 · tor 26. nov. 2026 kl. 09.00–10.30 · …` (da)
MEETING_LINE = re.compile(r"(M-\d{4}-\d{3}) · \w+ (\d{1,2}\.? \w+\.? \d{4})(?:,| kl\.) (\d\d[.:]\d\d)–(\d\d[.:]\d\d)"
                          r" · Koordineringsmøde")
MONTHS = {m: n for n, m in enumerate("jan feb mar apr maj jun jul aug sep okt nov dec".split(), 1)} | {
    "may": 5, "oct": 10}


def written_day(text: str) -> date:
    day, month, year = text.replace(".", "").split()
    return date(int(year), MONTHS[month.lower()[:3]], int(day))


def check_listing(listing: str) -> list[date]:
    found = MEETING_LINE.findall(listing)
    assert len(found) >= 5, listing
    days = [written_day(day) for _, day, _, _ in found]
    assert all((start, end) in {("09:00", "10:30"), ("09.00", "10.30")} for _, _, start, end in found)
    assert all(d.weekday() == 3 and not is_holiday(d) for d in days)
    assert all((b - a).days % 14 == 0 for a, b in zip(days, days[1:], strict=False))
    return days


def test_series_then_list_then_agenda_next_in_the_console(console, svc):
    seed(svc)
    out = console.run("SEC", SERIES_LINE, "meeting list", *CONCERNS, "agenda next")
    listing = out[out.index("> meeting list"):out.index("> concern new")]
    assert check_listing(listing)[0] == date(2026, 11, 26)
    agenda = out[out.index("> agenda next"):]
    section2 = agenda[agenda.index("2. New concerns to qualify (2)"):agenda.index("3. Visitations")]
    assert "KE-2026-0001 · " in section2 and "visitation deadline 25 Nov 2026, 10:00 (in 2 days)" in section2
    assert "KE-2026-0002 · " in section2 and "visitation deadline 26 Nov 2026, 10:00 (in 3 days)" in section2
    assert section2.index("KE-2026-0001") < section2.index("KE-2026-0002")  # high before normal
    assert "BUF — a child case is on the agenda: KE-2026-0001" in agenda
    assert "Udtaler" not in agenda and "propaganda" not in agenda


def test_the_same_lines_through_a_real_pipe_in_danish(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'koordinator.db'}"}
    stdin = "\n".join(["meeting list", SERIES_LINE, "meeting list", *CONCERNS, "agenda next"]) + "\n"
    done = subprocess.run([sys.executable, "-m", "bot", "console"], input=stdin, cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    out = done.stdout
    first = out[: out.index("> meeting series add")]
    assert "hver 14. dag" in first and 'every="hver anden torsdag kl. 9"' in first  # the default series proposed
    second = out[out.index("> meeting list", len(first)):out.index("> concern new")]
    check_listing(second)
    agenda = out[out.index("> agenda next"):]
    section2 = agenda[agenda.index("2. Nye bekymringer til kvalificering (2)"):agenda.index("3. Visitationer")]
    assert section2.count("visitationsfrist") == 2 and " · barn · " in section2 and "child" not in section2
    assert "BUF — børnesag på dagsordenen" in agenda
