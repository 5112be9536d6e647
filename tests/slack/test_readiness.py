"""/readyz tells a load balancer to stop sending traffic while the database is unreachable or behind; /healthz
stays a cheap liveness check that never touches the database."""

from __future__ import annotations

from pathlib import Path

from fake_slack import FakeSlack
from slack_http import AppServer

from storage.clock import FixedClock
from storage.settings import Settings
from tests.conftest import make_svc


async def _ready(settings: Settings, clock: FixedClock, fake: FakeSlack) -> tuple[int, dict, int]:
    svc = make_svc(settings, clock)
    try:
        async with AppServer(svc, fake) as srv:
            ready = await srv.http.get("/readyz")
            health = await srv.http.get("/healthz")
            return ready.status_code, ready.json(), health.status_code
    finally:
        svc.engine.dispose()


async def test_readyz_is_503_while_the_database_is_unreachable_and_healthz_stays_200(
        slack_settings: Settings, clock: FixedClock, fake_slack: FakeSlack, tmp_path: Path) -> None:
    gone = slack_settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}/no/such/dir/k.db"})
    status, body, health = await _ready(gone, clock, fake_slack)
    assert (status, body["status"], body["database"], health) == (503, "not ready", "unavailable", 200)


async def test_readyz_is_503_while_the_schema_is_behind(
        slack_settings: Settings, clock: FixedClock, fake_slack: FakeSlack, tmp_path: Path) -> None:
    empty = slack_settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}/empty.db"})
    status, body, health = await _ready(empty, clock, fake_slack)
    assert (status, body, health) == (503, {"status": "not ready", "database": "ok", "schema": "outdated"}, 200)
