"""PostgreSQL restarted under load: signed slash commands keep arriving and a worker keeps sweeping while a
private cluster (its own port, never the shared one) stops and starts. Every command gets an answer — its
result, or a private "try again in a moment" with nothing stored — and counts before and after prove that
nothing was lost or doubled: cases, references, processed requests, the reminders due during the outage."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fake_slack import FakeSlack
from slack_http import ADMIN, SECRETARIAT_CHANNEL, SIGNING_SECRET, UNIT_CHANNEL, AppServer, wait_until
from sqlmodel import Session, func, select
from test_slash_commands import CONCERN, all_text

from bot.delivery import deliver_pending
from commands.context import Services
from scheduler.worker import tick
from storage import audit
from storage.clock import FixedClock
from storage.db import make_engine, migrate, wait_for_database
from storage.models import Case, OutboxMessage, ProcessedRequest
from tests.conftest import make_settings, make_svc
from tests.pg_cluster import PrivateCluster
from tests.threaded import Records

UNAVAILABLE = "try again in a moment"


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    pg = PrivateCluster()
    yield pg
    pg.close()


def _count(svc: Services, model: Any) -> int:
    with Session(svc.engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


async def test_postgres_restart_under_load_loses_nothing_and_doubles_nothing(
        cluster: PrivateCluster, fake_slack: FakeSlack, clock: FixedClock) -> None:
    migrate(cluster.url)
    settings = make_settings(cluster.url, slack_bot_token="xoxb-test", slack_signing_secret=SIGNING_SECRET,
                             slack_api_url=fake_slack.base_url.rstrip("/"), unit_channel=UNIT_CHANNEL,
                             secretariat_channel=SECRETARIAT_CHANNEL, admin_users=(ADMIN,), command_rate=10_000)
    web, worker = make_svc(settings, clock), make_svc(settings, clock)
    start = clock.now()
    replies: dict[str, str] = {}
    stop_worker, stop_load = asyncio.Event(), asyncio.Event()

    async def work_loop() -> None:
        """The worker's jobs, back to back: a failed pass is logged and the next one retries (as in the worker)."""
        while not stop_worker.is_set():
            try:
                await tick(worker, clock.now(), deliver_pending)
            except Exception as exc:  # noqa: BLE001
                logging.getLogger("test.worker").warning("pass failed: %s", type(exc).__name__)
            await asyncio.sleep(0.1)

    async def send(srv: AppServer, key: str) -> None:
        response = await srv.slash("/concern", CONCERN, response_key=key)
        assert response.status_code == 200, response.status_code
        replies[key] = all_text((await wait_until(lambda: fake_slack.responses_to(key), timeout=60,
                                                  what=f"reply {key}"))[0])

    async def load(srv: AppServer) -> list[asyncio.Task[None]]:
        tasks, n = [], 0
        while not stop_load.is_set():
            n += 1
            tasks.append(asyncio.create_task(send(srv, f"load{n}")))
            await asyncio.sleep(0.25)
        return tasks

    with Records() as records:
        async with AppServer(web, fake_slack) as srv:
            sweeping = asyncio.create_task(work_loop())
            for i in range(4):  # before the outage
                await send(srv, f"before{i}")
            loading = asyncio.create_task(load(srv))
            await asyncio.sleep(1.0)

            await asyncio.to_thread(cluster.stop)
            assert (await srv.http.get("/readyz")).status_code == 503
            assert (await srv.http.get("/healthz")).status_code == 200
            clock.advance(hours=46, minutes=30)  # Wed 08:30 in Copenhagen: the first cases are in their warning window
            await asyncio.sleep(7.0)  # longer than a command's retries: some are told to try again
            await asyncio.to_thread(cluster.start)
            await asyncio.sleep(2.0)
            stop_load.set()
            await asyncio.gather(*await loading)

            await wait_until(lambda: _all_sent(worker), timeout=60, what="outbox drained")
            stop_worker.set()
            await sweeping
            assert (await srv.http.get("/readyz")).status_code == 200

    try:
        refs_told = sorted(re.search(r"KE-2026-\d{4}", t).group(0)  # type: ignore[union-attr]
                           for t in replies.values() if UNAVAILABLE not in t)
        told_unavailable = [k for k, t in replies.items() if UNAVAILABLE in t]
        crashed = [k for k, t in replies.items() if "went wrong" in t]
        assert not crashed
        assert told_unavailable, "the outage was too short to reach a user"
        assert all(UNAVAILABLE in t or "KE-2026-" in t for t in replies.values())
        with Session(web.engine) as session:
            refs = sorted(session.exec(select(Case.ref)).all())
            early = session.exec(select(func.count()).select_from(Case).where(Case.received_at == start)).one()
            reminders = session.exec(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("fu:%"))).all()  # type: ignore[union-attr]
            assert audit.verify(session).ok
        # Nothing lost, nothing doubled: one case per success, numbered without gaps, one processed request each.
        assert refs == sorted(set(refs_told)) and len(refs_told) == len(refs)
        assert refs == [f"KE-2026-{n:04d}" for n in range(1, len(refs) + 1)]
        # one key per request acted on; the worker forgets keys older than a day (the clock jumped 46 h here)
        assert 0 < _count(web, ProcessedRequest) <= len(refs)
        # Every reminder due during the outage went out, once.
        assert early >= 4 and len(reminders) == early and all(r.state == "sent" for r in reminders)
        dms = [p for p in fake_slack.posted() if " · KE-2026-" in all_text(p) and "F-" in all_text(p)]
        assert len(dms) == early
        notices = [p for p in fake_slack.posted(UNIT_CHANNEL)]
        assert sorted(re.search(r"KE-2026-\d{4}", all_text(p)).group(0) for p in notices) == refs  # type: ignore[union-attr]
        assert not records.tracebacks(), records.tracebacks()[0]
        assert any("database unavailable" in line for line in records.lines)
    finally:
        web.engine.dispose()
        worker.engine.dispose()


def _all_sent(svc: Services) -> bool:
    try:
        with Session(svc.engine) as session:
            return session.exec(select(func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.state != "sent")).one() == 0
    except Exception:  # noqa: BLE001
        return False


def test_start_up_waits_for_the_database_with_a_log_line(cluster: PrivateCluster) -> None:
    cluster.stop()
    engine = make_engine(cluster.url)
    threading.Timer(2.0, cluster.start).start()
    with Records() as records:
        started = time.monotonic()
        wait_for_database(engine, timeout=60)
    engine.dispose()
    assert time.monotonic() - started >= 1.5
    assert any("database is not reachable yet" in line for line in records.lines)
    assert not records.tracebacks()
