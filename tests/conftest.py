"""Shared fixtures: a migrated database (SQLite file, or PostgreSQL when TEST_DATABASE_URL is set),
Services with test keys and an injectable clock, and a console driver."""

from __future__ import annotations

import base64
import io
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from commands.context import Services
from storage.clock import FixedClock
from storage.crypto import Keys
from storage.db import make_engine, migrate, pg_schema
from storage.models import SQLModel
from storage.settings import Settings

TEST_PSEUDONYM_KEY = base64.b64encode(b"p" * 32).decode()
TEST_DATA_KEY = base64.b64encode(b"d" * 32).decode()
PG_URL = os.environ.get("TEST_DATABASE_URL")
# copenhagen with `procedures_active: false`: for tests written before procedures existed, used explicitly
# (`pytestmark = pytest.mark.procedures_off`, or make_settings(…, unit_profile=PROCEDURES_OFF)).
PROCEDURES_OFF = str(Path(__file__).parent / "profiles" / "copenhagen-procedures-off.yaml")
pytest.register_assert_rewrite("tests.scenario.seed")  # its comparisons explain themselves, as in a test module


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if PG_URL:
        with pg_schema(PG_URL, "test") as url:
            migrate(url)
            yield url
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate(f"sqlite:///{path}")
    yield str(path)


@pytest.fixture
def second_db_url(_template: str, tmp_path: Path) -> Iterator[str]:
    """Another clean, migrated database, beside `db_url` (e.g. the console's run of a scenario)."""
    if PG_URL:
        with pg_schema(PG_URL, "test_second") as url:
            migrate(url)
            yield url
        return
    path = tmp_path / "second.db"
    shutil.copy(_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def db_url(_template: str, tmp_path: Path) -> Iterator[str]:
    """A clean, migrated database per test."""
    if PG_URL:
        engine = make_engine(_template)
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        yield _template
        return
    path = tmp_path / "koordinator.db"
    shutil.copy(_template, path)
    yield f"sqlite:///{path}"


def make_settings(db_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {"database_url": db_url, "pseudonym_key": TEST_PSEUDONYM_KEY,
                                 "data_key": TEST_DATA_KEY, "bot_language": "en"}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))  # a Monday, 10:00 in Copenhagen


@pytest.fixture(autouse=True)
def _files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The console writes reply files to FILES_DIR: in tests, into the test's own folder."""
    folder = tmp_path / "files"
    monkeypatch.setenv("FILES_DIR", str(folder))
    return folder


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "procedures_off: the unit profile is copenhagen without procedures "
                                       "(tests/profiles/copenhagen-procedures-off.yaml)")


@pytest.fixture
def settings(db_url: str, request: pytest.FixtureRequest) -> Settings:
    if request.node.get_closest_marker("procedures_off") is not None:
        return make_settings(db_url, unit_profile=PROCEDURES_OFF)
    return make_settings(db_url)


def make_svc(settings: Settings, clock: FixedClock) -> Services:
    keys = Keys(base64.b64decode(settings.pseudonym_key or ""), base64.b64decode(settings.data_key or ""))
    return Services(settings=settings, engine=make_engine(settings.database_url), keys=keys, clock=clock)


@pytest.fixture
def svc(settings: Settings, clock: FixedClock) -> Iterator[Services]:
    services = make_svc(settings, clock)
    yield services
    services.engine.dispose()


class ConsoleDriver:
    """Drives bot.console.Console with scripted lines; returns what it printed."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def run(self, user: str, *lines: str, bootstrap: bool = False) -> str:
        from bot.console import Console

        out = io.StringIO()
        console = Console(self.svc, user, out, iter(lines))
        if bootstrap:
            console.run()
        else:
            for line in console.lines:
                console.say(f"> {line}")
                console.handle(line)
        return out.getvalue()


@pytest.fixture
def console(svc: Services) -> ConsoleDriver:
    return ConsoleDriver(svc)
