"""SQLite's "database is locked" (console and worker writing at once) is retried, never shown to a user; a bug
is not mistaken for an outage. The PostgreSQL restart under load is in tests/slack/test_database_restart.py."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from cmdkit import ADMIN, SEVERITY_HIGH_CONCERN, ok, seed_admin
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from commands.context import Services
from storage.clock import FixedClock
from storage.db import is_outage, make_engine
from storage.settings import Settings
from tests.conftest import PG_URL


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's own locking")
def test_a_command_waits_out_a_locked_sqlite_database_instead_of_failing(settings: Settings,
                                                                         clock: FixedClock) -> None:
    from tests.conftest import make_svc

    base = make_svc(settings, clock)
    svc = Services(settings=settings, engine=make_engine(settings.database_url, sqlite_busy_ms=100),
                   keys=base.keys, clock=clock)
    seed_admin(svc)
    path = settings.database_url.removeprefix("sqlite:///")
    held = threading.Event()

    def hold_the_lock() -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(1.2)
        conn.execute("ROLLBACK")
        conn.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    held.wait(5)
    try:
        reply = ok(svc, ADMIN, SEVERITY_HIGH_CONCERN)  # tried again until the lock is gone
        assert "KE-2026-0001" in reply.text
    finally:
        holder.join()
        svc.engine.dispose()
        base.engine.dispose()


def test_a_missing_table_is_a_bug_not_an_outage(svc: Services) -> None:
    with pytest.raises(DBAPIError) as raised, svc.engine.connect() as conn:
        conn.execute(text("SELECT * FROM no_such_table"))
    assert not is_outage(raised.value)
