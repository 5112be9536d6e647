"""The monthly targets digest: to the secretariat channel on the first working day of each month, from 08:00,
once (also when ticked again, by two workers, or after a few days' downtime), aggregates suppressed."""

from __future__ import annotations

import re
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

from scheduler.jobs.reports import monthly_digest
from tests.scheduler.helpers import run, seed_members, sent, set_now
from tests.scheduler.test_tick_cli import tick

CPH = ZoneInfo("Europe/Copenhagen")


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=CPH)


def concerns(svc, n: int, month: int) -> None:
    for day in range(1, n + 1):
        set_now(svc, local(2026, month, day, 10, 0))
        run(svc, "concern new severity=normal track=adult age=25+ source=police district=Valby basis=rpl115 "
                 'summary="Deler propaganda online"')


def test_the_digest_posts_once_on_the_first_working_day_from_eight(svc, db_url) -> None:
    seed_members(svc)
    concerns(svc, 7, 11)
    concerns(svc, 3, 12)
    # 1 Jan 2027 is a holiday (Friday), 2–3 Jan a weekend: the first working day is Monday 4 January.
    assert tick(db_url, local(2027, 1, 1, 9, 0)).count("Monthly targets digest") == 0
    assert tick(db_url, local(2027, 1, 4, 7, 59)).count("Monthly targets digest") == 0
    out = tick(db_url, local(2027, 1, 4, 8, 0))
    assert out.count("Monthly targets digest (1 Jan 2026 – 31 Dec 2026)") == 1 and "channel #secretariat" in out
    assert "Concerns received: 10" in out
    assert "Advice without a case: 0; case courses (referred): 0" in out  # contacts and courses apart
    assert re.search(r"Visited within 24/48/72 hours: (\d|–)", out)
    assert "KE-2026" not in out.split("Monthly targets digest")[1]
    assert tick(db_url, local(2027, 1, 4, 12, 0)).count("Monthly targets digest") == 0
    assert tick(db_url, local(2027, 1, 5, 12, 0)).count("Monthly targets digest") == 0
    # Down all of 1 February (Monday): the February digest goes out at the next tick within 3 days.
    out = tick(db_url, local(2027, 2, 2, 10, 0))
    assert out.count("Monthly targets digest (1 Jan 2027 – 31 Jan 2027)") == 1
    assert "Concerns received: 0" in out
    # A deployment started in the middle of a month waits for the next month.
    assert tick(db_url, local(2027, 3, 15, 10, 0)).count("Monthly targets digest") == 0


def test_small_numbers_in_the_digest_are_hidden(svc) -> None:
    seed_members(svc)
    concerns(svc, 3, 11)
    assert monthly_digest(svc, local(2026, 12, 1, 9, 0).astimezone(ZoneInfo("UTC")))
    [text] = [t for _k, target, t in sent(svc) if target == "secretariat" and "Aggregates only" in t]
    assert "Concerns received: <5" in text
    for line in text.splitlines()[2:]:
        value = line.rsplit(": ", 1)[1]
        assert not re.match(r"[1-4](\D|$)", value), line


def test_a_unit_without_any_case_gets_no_empty_digest(svc) -> None:
    seed_members(svc)
    assert not monthly_digest(svc, local(2026, 12, 1, 9, 0).astimezone(ZoneInfo("UTC")))
    assert not [t for _k, target, t in sent(svc) if target == "secretariat"]


def test_two_workers_at_the_same_instant_post_one_digest(svc) -> None:
    seed_members(svc)
    concerns(svc, 6, 11)
    now = local(2026, 12, 1, 8, 30).astimezone(ZoneInfo("UTC"))
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(monthly_digest(svc, now))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len([t for _k, target, t in sent(svc) if target == "secretariat" and "Aggregates only" in t]) == 1
