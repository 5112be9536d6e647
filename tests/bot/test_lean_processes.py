"""What a freshly started process carries: the server, a work process and the worker import the libraries
only a report or an export needs (matplotlib with numpy and Pillow, fpdf2, pypdf) when one is made — they
cost some 75 MB in every process that loads them (docs/benchmarks.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_DATA_KEY, TEST_PSEUDONYM_KEY

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("matplotlib", "numpy", "PIL", "fpdf", "pypdf", "fontTools")

# The server's and the worker's imports and wiring, then the work a work process does for the day's commands.
SCRIPT = """
import json, sys
import bot.__main__, scheduler.__main__, scheduler.worker
from bot.server import create_app
from bot.slack.answer import run_and_answer
from commands.reply import Invocation
from commands.router import dispatch
from commands.services import build_services
from storage.settings import Settings

svc = build_services(Settings())
create_app(svc)
texts = ['concern new severity=normal track=adult age=25+ source=hotline district=Valby basis=rpl115 summary="x"',
         "case list", "agenda", "case show KE-2026-0001", "followup list", "help"]
for text in texts:
    dispatch(svc, Invocation(user_id="UADMIN", text=text, platform="slack"))
scheduler.worker.run_jobs(svc, svc.clock.now())
print(json.dumps(sorted(name for name in %r if name in sys.modules)))
"""


def loaded(db_url: str, script: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))}
    env.update({"PYTHONPATH": str(ROOT), "DATABASE_URL": db_url, "PSEUDONYM_KEY": TEST_PSEUDONYM_KEY,
                "DATA_KEY": TEST_DATA_KEY, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s",
                "ADMIN_USERS": "UADMIN", "UNIT_CHANNEL": "C0UNIT"})
    done = subprocess.run([sys.executable, "-c", script % (HEAVY,)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_server_work_process_and_worker_do_not_load_report_libraries(db_url: str) -> None:
    assert loaded(db_url, SCRIPT) == []


def test_the_check_sees_them_once_a_chart_is_drawn(db_url: str) -> None:
    drawn = SCRIPT.replace("print(", "from commands.reports import charts\ncharts.counts('t', ['a'], ['1'])\nprint(")
    assert set(loaded(db_url, drawn)) >= {"matplotlib", "numpy", "PIL"}


MIGRATION_TOOLS = ("alembic", "mako", "pygments")
STARTED = """
import json, sys
import scheduler.worker
from commands.services import build_services
from storage.settings import Settings

svc = build_services(Settings())
scheduler.worker.run_jobs(svc, svc.clock.now())
print(json.dumps(sorted(name for name in %r if name in sys.modules)))
"""


def test_a_process_started_on_a_current_schema_does_not_load_the_migration_tool(db_url: str) -> None:
    """Alembic (with Mako and Pygments, ~11 MB a process) is imported only when there is something to migrate."""
    from storage.db import migrate

    migrate(db_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))}
    env.update({"PYTHONPATH": str(ROOT), "DATABASE_URL": db_url, "PSEUDONYM_KEY": TEST_PSEUDONYM_KEY,
                "DATA_KEY": TEST_DATA_KEY})
    done = subprocess.run([sys.executable, "-c", STARTED % (MIGRATION_TOOLS,)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_the_schema_check_reads_the_same_newest_revision_as_alembic(db_url: str) -> None:
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config, make_engine, migrate, migration_heads, needs_migration

    assert migration_heads() == set(ScriptDirectory.from_config(alembic_config(db_url)).get_heads())
    engine = make_engine(db_url)
    migrate(db_url)
    assert not needs_migration(engine)


def test_serve_limits_glibcs_malloc_arenas_before_it_forks() -> None:
    """Each allocating thread would get an arena of its own that keeps its freed memory (docs/benchmarks.md)."""
    import platform

    from bot.server import few_malloc_arenas

    script = "from bot.server import few_malloc_arenas; print(few_malloc_arenas())"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=60)
    glibc = platform.libc_ver()[0] == "glibc"
    assert done.stdout.strip() == str(glibc), done.stderr
    assert callable(few_malloc_arenas)
