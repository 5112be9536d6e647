"""One engine and one unit of work per use case, from DATABASE_URL."""

from __future__ import annotations

import functools
import logging
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session, create_engine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_MS = 30_000
CONNECT_TIMEOUT_S = 5  # an unreachable host fails a connection attempt after this, instead of hanging
RETRY_DELAYS = (0.25, 0.5, 1.0, 2.0)  # a use case meeting a database outage is tried again this often
STARTUP_WAIT_S = 600.0  # how long start-up waits for the database before giving up
_SQLITE_BUSY = ("database is locked", "database table is locked")
T = TypeVar("T")


def normalise_url(url: str) -> str:
    """One URL form serves sync and async: PostgreSQL always goes through psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str, *, sqlite_busy_ms: int = SQLITE_BUSY_MS) -> Engine:
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": sqlite_busy_ms / 1000, "check_same_thread": False})
        _sqlite_pragmas(engine, sqlite_busy_ms)
        return engine
    # pre-ping: a connection the server dropped (a restart) is replaced before a use case gets it.
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})


def is_outage(exc: BaseException) -> bool:
    """The database is away or busy — worth trying again in a moment — as opposed to a bug or bad data."""
    if isinstance(exc, DisconnectionError | PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    module = type(orig).__module__ if orig is not None else ""
    if module.startswith("sqlite3"):
        return any(reason in str(orig).lower() for reason in _SQLITE_BUSY)
    if module.startswith("psycopg"):
        import psycopg

        return isinstance(orig, psycopg.OperationalError | psycopg.InterfaceError)
    return False


def retrying(fn: Callable[[], T], what: str, delays: tuple[float, ...] = RETRY_DELAYS) -> T:
    """`fn()`, tried again after each delay while the database is away (fn must be one whole transaction,
    rolled back on failure, so a retry never stores anything twice). The last failure is raised."""
    for delay in (*delays, None):
        try:
            return fn()
        except Exception as exc:
            if delay is None or not is_outage(exc):
                raise
            log.warning("%s: database unavailable (%s), retrying in %ss", what, type(exc).__name__, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


def wait_for_database(engine: Engine, *, timeout: float = STARTUP_WAIT_S, sleep: Callable[[float], None] = time.sleep,
                      clock: Callable[[], float] = time.monotonic) -> None:
    """Start-up: wait (with a line per attempt) until the database answers, instead of a crash loop. Raises
    the last error after `timeout` seconds."""
    deadline, delay = clock() + timeout, 1.0
    while True:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return
        except Exception as exc:
            if not is_outage(exc) or clock() + delay > deadline:
                raise
            log.warning("the database is not reachable yet (%s); trying again in %.0f s", type(exc).__name__, delay)
            sleep(delay)
            delay = min(delay * 2, 30.0)


def _sqlite_pragmas(engine: Engine, busy_ms: int = SQLITE_BUSY_MS) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        # Let SQLAlchemy emit BEGIN itself (below), so a write transaction takes the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA secure_delete=ON")  # erased rows are overwritten, not left in free pages
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        # BEGIN IMMEDIATE: concurrent writers queue on the lock instead of failing on a stale snapshot. A reader
        # (`reading(engine)`) begins deferred: with WAL it never waits for a writer, even one in its own thread.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


READ_ONLY = "koordinator_read_only"


def reading(engine: Engine) -> Engine:
    """The engine for a short read that must not take SQLite's write lock (e.g. the unit's language while the
    caller's own unit of work holds it). Never write through it."""
    return engine.execution_options(**{READ_ONLY: True})


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


class UnitOfWork(Session):
    """A use case's session that also carries what must follow from it: "when a case changes, its report facts
    are derived again", "its channel notice follows". The use case says so (`then`); the commit runs it, in
    the same transaction, once per unit of work; a rollback forgets it."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, expire_on_commit=False)
        self.consequences: dict[str, tuple[Callable[[Session, list], None], list]] = {}
        self._last: set[str] = set()
        self._written: dict[int, object] | None = {}
        self._created: set[int] = set()  # id() of the written objects this unit of work inserted
        event.listen(self, "after_flush", self._note_flushed)
        event.listen(self, "do_orm_execute", self._note_execute)

    def _note_flushed(self, _session: Session, _context: object) -> None:
        if self._written is not None:
            for obj in self.new:
                self._written[id(obj)] = obj
                self._created.add(id(obj))
            for obj in self.dirty:
                self._written[id(obj)] = obj

    def _note_execute(self, state) -> None:  # noqa: ANN001
        if state.is_update or state.is_delete:  # rows changed behind the objects' backs: no longer known
            self._written = None

    def written(self) -> list[object] | None:
        """Every object this unit of work inserted or changed through the ORM, held until it ends (a brand-new
        case's rows are all among them); None once an UPDATE or DELETE statement ran through the session."""
        return None if self._written is None else list(self._written.values())

    def created(self, obj: object) -> bool:
        """This unit of work inserted `obj` (one of `written()`)."""
        return self._written is not None and self._written.get(id(obj)) is obj and id(obj) in self._created

    def then(self, name: str, run: Callable[[Session, list], None], item: object, *, last: bool = False) -> None:
        """Just before the commit, `run(session, items)` once with every item queued under `name`; `last`: after
        every other consequence (the audit chain's lock is then held only for its own INSERT and the commit)."""
        self.consequences.setdefault(name, (run, []))[1].append(item)
        if last:
            self._last.add(name)

    def queued(self, name: str) -> list:
        """The items queued under `name` that the commit has not run yet."""
        waiting = self.consequences.get(name)
        return list(waiting[1]) if waiting else []

    def commit(self) -> None:
        while self.consequences:  # a consequence may queue another
            name = next((n for n in self.consequences if n not in self._last), next(iter(self.consequences)))
            run, items = self.consequences.pop(name)
            run(self, items)
        super().commit()
        self._written, self._created = {}, set()

    def rollback(self) -> None:
        self.consequences.clear()
        self._written, self._created = {}, set()
        super().rollback()


def then(session: Session, name: str, run: Callable[[Session, list], None], item: object, *,
         last: bool = False) -> None:
    """Queue a consequence with the unit of work; a session not opened by `unit_of_work` (a script, a migration)
    runs it at once."""
    if isinstance(session, UnitOfWork):
        session.then(name, run, item, last=last)
    else:
        run(session, [item])


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """The transaction boundary is the use case: commit on success (after the consequences it queued,
    `UnitOfWork.then`), roll back on any error."""
    with UnitOfWork(engine) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str):  # noqa: ANN201
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


_REVISION_LINE = re.compile(r"""^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:['"]([^'"]+)['"]|None)\s*$""", re.M)


@functools.cache
def migration_heads() -> frozenset[str]:
    """The newest revision(s) of storage/migrations/versions, read from the files' `revision` and
    `down_revision` lines — once a process: they ship with the code (the readiness probe asks every time).
    Without importing Alembic: its import (with Mako and Pygments) costs every long-running process ~11 MB it
    would never use again once the schema is current."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        if found.get("revision"):
            revisions.add(found["revision"])
            if found.get("down_revision"):
                parents.add(found["down_revision"])
    return frozenset(revisions - parents)


def current_revisions(engine: Engine) -> set[str]:
    """What `alembic_version` says the schema is at (nothing on an empty database)."""
    if "alembic_version" not in inspect(engine).get_table_names():
        return set()
    with engine.connect() as conn:
        return {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}


def needs_migration(engine: Engine) -> bool:
    return current_revisions(engine) != migration_heads()


def has_tables(engine: Engine) -> bool:
    return bool(inspect(engine).get_table_names())


@contextmanager
def pg_schema(url: str, prefix: str) -> Iterator[str]:
    """A fresh PostgreSQL schema for the duration (tests, benchmarks): yields `url` with its search_path set to
    that schema, so concurrent runs against one server never meet; the schema is dropped afterwards."""
    schema = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
