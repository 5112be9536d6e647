"""Issue 26: a hostile string typed into every free-text field of the use cases — notes, follow-up texts, step
titles, series names, meeting topics, mentor logs, hold reasons, display names, decisions — comes out of every
reply, channel notice, DM and reminder as text in Slack, Teams and the console: nothing stays live."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from cmdkit import ADMIN, add_member, new_case, ok, outbox_messages, pseudonyms, run, seed_admin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack import render as slack_render
from bot.teams import render as teams_render
from bot.terminal import render as console_render
from commands.reply import Reply
from scheduler.jobs.followups import sweep
from tests.bot.test_inert_text import DIRECTION, FRAGMENTS, SLACK_LIVE, TEAMS_LIVE

# Each free-text field, as a user types it; {x} is the hostile text, {ref} a case, {sub} its subject.
FIELDS = {
    "note": 'case note {ref} "{x}"',
    "followup": 'followup add {ref} due="2026-11-24 09:00" "{x}"',
    "step": 'case step add {ref} "{x}" due="2026-11-24 09:00"',
    "series": 'meeting series add name="{x}" rrule="FREQ=WEEKLY;BYDAY=TU" time=09:00 duration=90m',
    "topic": 'meeting adhoc when="2026-11-25 10:00" duration=60m topic="{x}" cases={ref}',
    "mentor log": 'mentor log {ref} subject={sub} "{x}"',
    "hold": 'case hold {ref} reason="{x}"',
    "display name": 'unit add <@U_X{n}> role=member org=SSP name="{x}"',
    "skip reason": 'case step {ref} 1 skip reason="{x}"',
}
READ_BACK = ["case show {ref}", "case steps {ref}", "followup list all", "meeting list", "unit members",
             "meeting series list", "unit retention"]
SAFE = st.lists(st.sampled_from([f for f in FRAGMENTS if '"' not in f and f.strip() and "\x00" not in f]),
                min_size=1, max_size=5).map(" ".join)


@pytest.fixture
def world(svc):
    seed_admin(svc)
    add_member(svc, "U_MENTOR", "mentor", "EKP")
    ref = new_case(svc)
    (sub,) = pseudonyms(svc, ref)
    for command in (f"case qualify {ref} level=preventive", f"case refer {ref} to=SOF owner=<@{ADMIN}>",
                    f"case offer {ref} subject={sub} kind=mentor", f"case respond {ref} subject={sub} kind=mentor "
                    "accepted", f"case assign {ref} subject={sub} kind=mentor mentor=<@U_MENTOR>"):
        ok(svc, ADMIN, command)
    svc.ref, svc.sub, svc.n = ref, sub, 0
    return svc


def _shown(reply: Reply) -> list[tuple[str, str]]:
    """(format, text) of every part a platform shows that could be live."""
    out = []
    message = slack_render.message(reply, "da")
    out.append(("slack", message["text"]))
    for block in message["blocks"]:
        if block.get("text", {}).get("type") == "mrkdwn":
            out.append(("slack", block["text"]["text"]))
        out += [("slack", f["text"]) for f in block.get("fields", [])]
    out.append(("slack", slack_render.caption(reply)))
    card = teams_render.reply_card(reply, "da", {ADMIN: "Admin"})
    for block in card["body"]:
        out += [("teams", v) for v in (block.get("text"), *(f.get("value") for f in block.get("facts", []))) if v]
    out.append(("teams", teams_render.fallback_text(reply)))
    out.append(("console", console_render(reply)))
    return out


def _assert_inert(reply: Reply, where: str) -> None:
    for fmt, text in _shown(reply):
        if fmt == "slack":
            assert SLACK_LIVE.findall(re.sub(r"<@U_\w+>", "", text)) == [], (where, text)  # members: live
        elif fmt == "teams":
            assert TEAMS_LIVE.findall(re.sub(r"<at>Admin</at>", "", text)) == [], (where, text)  # no GUIDs
        assert not DIRECTION.search(text), (where, text)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(hostile=SAFE)
def test_every_free_text_field_is_inert_everywhere(world, hostile: str) -> None:
    world.n += 1
    sent = len(outbox_messages(world))
    for name, template in FIELDS.items():
        reply = run(world, ADMIN, template.format(x=hostile, ref=world.ref, sub=world.sub, n=world.n))
        _assert_inert(reply, name)
    if world.n == 1:
        run(world, ADMIN, f"case release {world.ref}")
    for command in READ_BACK:
        _assert_inert(run(world, ADMIN, command.format(ref=world.ref)), command)
    sweep(world, world.clock.now() + timedelta(days=3))  # the reminders of the follow-up and the step
    for kind, target, reply in outbox_messages(world)[sent:]:
        _assert_inert(reply, f"{kind}:{target}")
