"""Dates and times for the reader's language (Babel): `3. dec. 2026 kl. 19.37` and `om 47 timer` in Danish,
in every reply, Block Kit message and Adaptive Card; the command language still reads ISO."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.slack.render import message
from bot.teams.render import reply_card
from commands.time import timefmt
from commands.time.timefmt import clock, day, long_day, number, percent, relative, span, when
from tests.commands.cmdkit import ADMIN, SEVERITY_HIGH_CONCERN, ok, run, seed_admin

CPH = ZoneInfo("Europe/Copenhagen")


def test_danish_and_english_instants():
    instant = datetime(2026, 12, 3, 18, 37, tzinfo=UTC).astimezone(CPH)
    assert when(instant, "da") == "3. dec. 2026 kl. 19.37"
    assert when(instant, "en") == "3 Dec 2026, 19:37"
    assert day(instant, "da") == "3. dec. 2026"
    assert day(instant, "en") == "3 Dec 2026"
    assert day(instant.date(), "da") == "3. dec. 2026"
    assert long_day(instant, "da") == "torsdag den 3. december 2026"
    assert long_day(instant, "en") == "Thursday 3 December 2026"
    assert (clock(instant, "da"), clock(instant, "en")) == ("kl. 19.37", "19:37")
    later = instant + timedelta(minutes=90)
    assert (span(instant, later, "da"), span(instant, later, "en")) == ("3. dec. 2026 kl. 19.37–21.07",
                                                                       "3 Dec 2026, 19:37–21:07")
    summer = datetime(2026, 7, 1, 7, 5, tzinfo=UTC).astimezone(CPH)
    assert when(summer, "da") == "1. jul. 2026 kl. 09.05"


@pytest.mark.parametrize(("delta", "da", "en"), [
    (timedelta(hours=47, minutes=59), "om 1 dag og 23 timer", "in 1 day and 23 hours"),
    (timedelta(hours=-3, minutes=-10), "for 3 timer siden", "3 hours ago"),
    (timedelta(days=5, hours=2), "om 5 dage og 2 timer", "in 5 days and 2 hours"),
    (timedelta(days=5), "om 5 dage", "in 5 days"),
    (timedelta(hours=-630), "for 26 dage og 6 timer siden", "26 days and 6 hours ago"),
    (timedelta(hours=1), "om 1 time", "in 1 hour"),
    (timedelta(minutes=20), "om 20 minutter", "in 20 minutes"),
    (timedelta(minutes=1), "om 1 minut", "in 1 minute"),
])
def test_relative_forms(delta, da, en):
    assert (relative(delta, "da"), relative(delta, "en")) == (da, en)


def test_numbers_and_percentages():
    assert (number(1234.5, "da"), number(1234.5, "en")) == ("1.234,5", "1,234.5")
    assert (percent(0.7, "da"), percent(0.7, "en"), percent(0.6251, "da", 1)) == ("70\u00a0%", "70%", "62,5\u00a0%")


def test_babel_locales_are_parsed_once_per_process():
    assert timefmt.locale("da") is timefmt.locale("da")
    assert timefmt.locale("xx") is timefmt.locale("da")  # an unknown language falls back to Danish


@pytest.fixture
def danish(svc):
    da = dataclasses.replace(svc, settings=svc.settings.model_copy(update={"bot_language": "da"}))
    seed_admin(da)
    return da


def test_danish_replies_blocks_and_cards_write_dates_the_danish_way(danish):
    ok(danish, ADMIN, SEVERITY_HIGH_CONCERN)
    show = ok(danish, ADMIN, "case show KE-2026-0001")
    fields = {f.label: f.value for f in show.fields}
    assert fields["Modtaget"] == "23. nov. 2026 kl. 10.00"
    assert fields["Visitationsfrist"] == "25. nov. 2026 kl. 10.00 (om 2 dage)"
    blocks = json.dumps(message(show, "da"), ensure_ascii=False)
    card = json.dumps(reply_card(show, "da"), ensure_ascii=False)
    for rendered in (blocks, card):
        assert "25. nov. 2026 kl. 10.00 (om 2 dage)" in rendered and "2026-11-25" not in rendered


def test_the_command_language_still_takes_iso(danish):
    reply = ok(danish, ADMIN, SEVERITY_HIGH_CONCERN.replace("summary=", 'received="2026-11-22 09:30" summary='))
    assert "24. nov. 2026 kl. 09.30" in reply.text  # 48 h from the ISO time typed
    assert not run(danish, ADMIN, 'followup add KE-2026-0001 due="3. dec. 2026" "x"').ok


def test_reminders_from_the_worker_speak_danish(danish):
    """The sweep's DMs and overdue posts: severity as a word, the deadline written the Danish way."""
    from scheduler.jobs.followups import sweep
    from tests.commands.cmdkit import outbox_messages

    ok(danish, ADMIN, SEVERITY_HIGH_CONCERN)  # high: 48 h from Monday 23 Nov 10:00 → Wednesday 25 Nov 10:00
    danish.clock.advance(hours=37)  # past 75 % of the window, inside the working day
    sweep(danish, danish.clock.now())
    danish.clock.advance(hours=12)  # overdue
    sweep(danish, danish.clock.now())
    texts = [reply.text for _kind, _target, reply in outbox_messages(danish)]
    reminders = [text for text in texts if "25. nov. 2026 kl. 10.00" in text]
    assert len(reminders) == 2, texts
    assert all("høj" in text and "high" not in text and "2026-11-25" not in text for text in reminders)
