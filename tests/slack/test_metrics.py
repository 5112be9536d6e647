"""GET /metrics: only with METRICS_TOKEN and only to its bearer; after a scripted burst of signed slash commands
the counts are right, and no metric line carries a reference, pseudonym or user id."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from fake_slack import FakeSlack
from prometheus_client.parser import text_string_to_metric_families
from slack_http import ADMIN, AppServer, wait_until
from sqlmodel import Session, select
from test_slash_commands import CONCERN

from bot.delivery import deliver_pending
from commands.context import Services
from commands.reply import Invocation
from commands.router import submit_form
from scheduler.worker import start_metrics, tick
from storage.clock import FixedClock
from storage.models import Case, Member, Subject
from storage.settings import Settings
from tests.conftest import make_svc

TOKEN = "metrics-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def metered_svc(slack_settings: Settings, clock: FixedClock) -> Iterator[Services]:
    svc = make_svc(slack_settings.model_copy(update={"metrics_token": TOKEN}), clock)
    yield svc
    svc.engine.dispose()


@pytest.fixture
async def metered(metered_svc: Services, fake_slack: FakeSlack) -> AsyncIterator[AppServer]:
    async with AppServer(metered_svc, fake_slack) as srv:
        yield srv


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(server: AppServer) -> str:
    response = await server.http.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_metrics_need_the_bearer_token(metered: AppServer, server: AppServer) -> None:
    assert (await metered.http.get("/metrics")).status_code == 401
    assert (await metered.http.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
    assert (await metered.http.get("/metrics", headers={"Authorization": TOKEN})).status_code == 401
    # Without METRICS_TOKEN configured there are no metrics at all, whatever a request bears.
    assert (await server.http.get("/metrics", headers=AUTH)).status_code == 401


async def test_a_burst_is_counted_by_command_and_outcome_and_no_line_names_a_case_person_or_user(
        metered: AppServer, metered_svc: Services, fake_slack: FakeSlack, clock: FixedClock) -> None:
    before = await scrape(metered)
    script = [("/concern", CONCERN, ADMIN), ("/concern", CONCERN, ADMIN), ("/case", "list", ADMIN),
              ("/case", "show KE-2026-0001", ADMIN), ("/case", "frobnicate", ADMIN),
              ("/case", "show KE-2026-0001", "UNOBODY")]
    for i, (command, text, user) in enumerate(script):
        assert (await metered.slash(command, text, user=user, response_key=f"m{i}")).status_code == 200
        await wait_until(lambda i=i: fake_slack.responses_to(f"m{i}"), what=f"reply {i}")
    result = submit_form(metered_svc, Invocation(user_id=ADMIN, text="", platform="slack"), "case.subject",
                         {"age": "15-17", "identifier": "010203-4567"}, {"case": "KE-2026-0001"})
    assert result.reply is not None and result.reply.ok

    async def scraped() -> str:
        # The count is taken when the work returns, a moment after the reply was sent.
        for _ in range(100):
            text = await scrape(metered)
            if value(text, "koordinator_commands_total", platform="slack", command="case show", outcome="refused") \
                    > value(before, "koordinator_commands_total", platform="slack", command="case show",
                            outcome="refused"):
                return text
            await asyncio.sleep(0.05)
        raise AssertionError("the last command was never counted")

    text = await scraped()

    def delta(command: str, outcome: str) -> float:
        labels = {"platform": "slack", "command": command, "outcome": outcome}
        return value(text, "koordinator_commands_total", **labels) - value(before, "koordinator_commands_total",
                                                                             **labels)

    assert delta("concern new", "ok") == 2
    assert delta("case list", "ok") == 1
    assert delta("case show", "ok") == 1
    assert delta("unknown", "usage_error") == 1
    assert delta("case show", "refused") == 1
    assert value(text, "koordinator_ack_seconds_count", platform="slack") - \
        value(before, "koordinator_ack_seconds_count", platform="slack") == len(script)
    assert value(text, "koordinator_database_up") == 1
    assert ("koordinator_outbox_pending", (("platform", "slack"),)) in samples(text)
    assert value(text, "koordinator_visitations_overdue") == 0

    clock.advance(days=3)  # both high-severity concerns are now past their 48-hour visitation deadline
    later = await scrape(metered)
    assert value(later, "koordinator_visitations_overdue") == 2

    with Session(metered_svc.engine) as session:
        refs = [c.ref for c in session.exec(select(Case))]
        pseudonyms = [s.pseudonym for s in session.exec(select(Subject)) if s.pseudonym]
        users = [m.user_id for m in session.exec(select(Member))] + ["UNOBODY"]
    assert refs and pseudonyms and users
    needles = [*refs, *pseudonyms, *users, "KE-", "Nørrebro", "frikvarteret"]
    for line in later.splitlines():
        for needle in needles:
            assert needle.lower() not in line.lower(), (needle, line)
    assert not re.search(r"\bU[A-Z0-9]{6,}\b", later)


async def test_the_worker_serves_sweep_metrics_on_its_own_port(svc: Services, clock: FixedClock) -> None:
    metered = Services(**{**_fields(svc), "settings": svc.settings.model_copy(
        update={"metrics_token": TOKEN, "metrics_port": 0})})
    assert await start_metrics(Services(**{**_fields(svc)}), host="127.0.0.1") is None  # off by default
    started = await start_metrics(metered, host="127.0.0.1")
    assert started is not None
    runner, port = started
    try:
        import httpx

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/metrics")).status_code == 401
            await tick(metered, clock.now() + timedelta(minutes=1), deliver_pending)
            text = (await http.get("/metrics", headers=AUTH)).text
        assert value(text, "koordinator_sweep_last_success_timestamp_seconds") == \
            (clock.now() + timedelta(minutes=1)).timestamp()
        assert value(text, "koordinator_sweep_seconds_count") >= 1
        assert "koordinator_followups_reminded_total" in text
        assert ("koordinator_outbox_pending", (("platform", "console"),)) in samples(text)
    finally:
        await runner.cleanup()


def _fields(svc: Services) -> dict[str, object]:
    import dataclasses

    return {f.name: getattr(svc, f.name) for f in dataclasses.fields(svc) if f.init}
