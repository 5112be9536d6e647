"""Issue 26: user text is inert in every chat output. Hostile strings — mentions, channel pings, links, HTML,
formulas, newlines, direction marks — go through the one escaping function of each format (Slack mrkdwn, Teams
card Markdown, the terminal), through the renderers, through every free-text field of the use cases, and into
.ics; none of them stays live, and the text itself is still there to read.

(Markdown, CSV and PDF exports are the document writers' own: their property tests feed the same HOSTILE
strategy below into the document model — see the notes of issue 26.)
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from bot import escaping
from bot.slack import render as slack_render
from bot.teams import render as teams_render
from bot.terminal import render as console_render
from commands.markup import MARKS as MARKUP_MARKS
from commands.markup import link, mention, plain, scrub
from commands.reply import Button, FieldLine, Reply
from commands.time import ics

FRAGMENTS = ["<!channel>", "<!here>", "<!everyone>", "<@U0VICTIM>", "<@U0VICTIM|boss>", "<#C0SECRET>",
             "<https://evil.example|klik>", "http://evil.example/x?y=1", "https://evil.example", "www.evil.example",
             "evil.example", "mailto:a@evil.example", "[klik](http://evil.example)", "<at>Anne</at>",
             "<script>alert(1)</script>", "<b>fed</b>", "&amp;", "&lt;@U0VICTIM&gt;", "=HYPERLINK(\"x\")", "+1",
             "-2", "@SUM(A1)", "*APPROVED*", "_kursiv_", "`kode`", "\n", "\r\n", "\t", "\x1b[31m", "\x00",
             "\u202e", "\u202d", "\u2066", "\u200f", "\u061c", "\ue000U0VICTIM\ue001", "\ue002http://evil\ue003x\ue004",
             "\ue005=cmd\ue006", "Æblegrød", " ", "KE-2026-0001", "BEGIN:VEVENT", "ATTENDEE:mailto:x", ";", ",", "\\"]
HOSTILE = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), min_size=1, max_size=8).map("".join)

# What each format would make live. Slack: mentions, pings, channel links, disguised or bare links.
SLACK_LIVE = re.compile(r"<[@!#]|<https?:|<mailto:|https?://|mailto:|www\.|evil\.example")
TEAMS_LIVE = re.compile(r"<at>|<[a-z/]|\]\(|https?://|mailto:|www\.|evil\.example")
DIRECTION = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MARKS = MARKUP_MARKS  # the private marks of mentions, links and code (commands/markup.py): user text never holds them


def _readable(text: str) -> str:
    """What a reader sees of a literal: the input without the characters that must go."""
    return CONTROL.sub("", DIRECTION.sub("", MARKS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))))


@given(HOSTILE)
def test_slack_mrkdwn_keeps_user_text_as_text(text: str) -> None:
    out = escaping.slack(scrub(text))
    assert SLACK_LIVE.findall(out) == [] and not DIRECTION.search(out) and not CONTROL.search(out)
    back = out.replace(escaping.ZWSP, "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert back == _readable(text).replace(escaping.ZWSP, "")


@given(HOSTILE)
def test_teams_markdown_keeps_user_text_as_text(text: str) -> None:
    out = escaping.teams(scrub(text))
    assert TEAMS_LIVE.findall(out) == [] and not DIRECTION.search(out) and not CONTROL.search(out)
    assert out.replace(escaping.ZWSP, "") == _readable(text).replace(escaping.ZWSP, "")


@given(HOSTILE)
def test_the_console_shows_no_escape_sequences(text: str) -> None:
    out = escaping.console(scrub(text))
    assert not CONTROL.search(out) and not DIRECTION.search(out) and "\x1b" not in out


@given(HOSTILE, HOSTILE)
def test_forged_marks_never_become_a_mention_or_a_link(before: str, after: str) -> None:
    """Only markup.mention makes a live mention: text from outside loses the marks (scrub) at the router."""
    text = scrub(before) + mention("U0OWNER") + scrub(after) + link("https://koordinator.example/feed.ics", "feed")
    slack = escaping.slack(text)
    assert re.findall(r"<@(\w+)>", slack) == ["U0OWNER"]
    assert re.findall(r"<(https?://[^|>]+)", slack) == ["https://koordinator.example/feed.ics"]
    teams = escaping.teams(text, lambda uid: f"<at>{uid}</at>")
    assert re.findall(r"<at>(\w+)</at>", teams) == ["U0OWNER"] and teams.count("](") == 1
    assert plain(text).count("@U0OWNER") == 1


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(HOSTILE)
def test_every_rendered_surface_is_inert(text: str) -> None:
    text = scrub(text)
    reply = Reply(text=f"{mention('U0OWNER')} {text}", title=text, fields=[FieldLine(text, text),
                                                                           FieldLine("kort", text[:20])],
                  buttons=[Button(text[:30] or "x", "case.show", "KE-2026-0001", "case show KE-2026-0001")])
    message = slack_render.message(reply, "da")
    mrkdwn = [message["text"]] + [b["text"]["text"] for b in message["blocks"] if b.get("text", {}).get("type")
                                  == "mrkdwn"]
    mrkdwn += [f["text"] for b in message["blocks"] for f in b.get("fields", [])]
    for part in mrkdwn:
        assert SLACK_LIVE.findall(part.replace("<@U0OWNER>", "")) == [], part
    assert slack_render.caption(reply).count("<@") <= 1
    card = teams_render.reply_card(reply, "da", {"U0OWNER": "Ejer"})
    for block in card["body"]:
        for value in (block.get("text"), *(f.get("value") for f in block.get("facts", []))):
            if value:
                assert TEAMS_LIVE.findall(value) == [], value
    assert TEAMS_LIVE.findall(teams_render.fallback_text(reply)) == []
    shown = console_render(reply)
    assert not CONTROL.search(shown.replace("\n", "")) and not DIRECTION.search(shown)


@given(HOSTILE)
def test_ics_keeps_a_hostile_name_in_its_summary(text: str) -> None:
    """.ics has its own escaping (RFC 5545, by icalendar): a name cannot add a property or an event."""
    text = scrub(text)
    assume(text.strip())
    start = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    event = ics.single_event(ics.Single("uid-1@koordinator", start, start + timedelta(hours=1), text), start)
    raw = ics.calendar([event], name="koordinator", around=start.date())  # the name is never user text
    lines = raw.decode().split("\r\n")
    assert sum(line == "BEGIN:VEVENT" for line in lines) == 1
    assert not any(line.startswith(("ATTENDEE", "ORGANIZER", "URL", "ATTACH")) for line in lines)
    parsed = Calendar.from_ical(raw)
    summaries = [str(c.get("summary")) for c in parsed.walk("VEVENT")]
    assert len(summaries) == 1
    if "\\" not in text:  # icalendar reads a typed `\N` as an escaped line break (by design): text, not structure
        assert summaries == [text.replace("\r\n", "\n").replace("\r", "\n")]


@pytest.mark.parametrize("fragment", FRAGMENTS)
def test_each_hostile_fragment_alone(fragment: str) -> None:
    test_slack_mrkdwn_keeps_user_text_as_text.hypothesis.inner_test(fragment)  # type: ignore[attr-defined]
    test_teams_markdown_keeps_user_text_as_text.hypothesis.inner_test(fragment)  # type: ignore[attr-defined]
