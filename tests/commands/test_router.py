"""The router: nothing raises past dispatch, bad input gets the usage line, failures store nothing."""

from __future__ import annotations

import logging

import pytest
from cmdkit import ADMIN, SEVERITY_HIGH_CONCERN, add_member, new_case, ok, pseudonyms, row_counts, run, seed_admin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.cases import concerns
from commands.reply import Invocation, Reply
from commands.router import TABLE, dispatch, submit_form

DB_SETTINGS = settings(max_examples=120, deadline=None,
                       suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

WORDS = ["concern", "new", "lookup", "case", "list", "show", "qualify", "checked", "refer", "subject", "add",
         "offer", "respond", "assign", "note", "close", "reopen", "mentor", "log", "end", "unit", "members",
         "remove", "audit", "verify", "keys", "rotate", "help", "meeting", "agenda", "report", "followup",
         "accepted", "declined", "open", "mine", "overdue", "closed", "all", "KE-2026-0001", "KE-2026-0002",
         "KE-1999-9999", "ke-2026-0001", "KE-2026-1", "minutes", "series", "adhoc"]
KEYS = ["severity", "track", "age", "source", "district", "basis", "summary", "indicators", "received", "level",
        "org", "found", "to", "owner", "subject", "kind", "mentor", "reason", "consent", "date", "role", "name",
        "colour", "x"]
VALUES = ["high", "critical", "normal", "child", "adult", "15-17", "25+", "0-14,15-17", "school", "social",
          "Nørrebro", "Valby", "rpl115", "consent", "isolation", "preventive", "pre_emptive", "SSP", "SOF", "yes",
          "no", "mentor", "parent_coach", "normal_system", "unfounded", "admin", "member", "2026-11-22 09:00",
          "i går 14:00", "2030-01-01", "<@U_ADMIN>", "<@U_MENTOR|mette>", "@U_SSP", "ZZZZ-ZZZZ", "", "∅", "é"]
PATHS = sorted(" ".join(path) for path in TABLE.commands)
TEXTS = ["Bekymring", "Udtaler støtte til IS", "", " ", "a \\\"quoted\\\" word", "x" * 50]


@st.composite
def commands(draw) -> str:
    if draw(st.integers(0, 3)):
        parts = [draw(st.sampled_from(PATHS))]
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from(["KE-2026-0001", "KE-2026-0002", "KE-2026-0404"])))
    else:
        parts = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=4))
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["opt", "quoted", "text", "mention", "word", "noise"]))
        if kind == "opt":
            parts.append(f"{draw(st.sampled_from(KEYS))}={draw(st.sampled_from(VALUES))}")
        elif kind == "quoted":
            parts.append(f'{draw(st.sampled_from(KEYS))}="{draw(st.sampled_from(TEXTS + VALUES))}"')
        elif kind == "text":
            parts.append(f'"{draw(st.sampled_from(TEXTS))}"')
        elif kind == "mention":
            parts.append(draw(st.sampled_from(["<@U_ADMIN>", "<@U_SSP|ssp>", "<@U_NONE>", "@U_MENTOR", "<@>"])))
        elif kind == "word":
            parts.append(draw(st.sampled_from(WORDS)))
        else:
            parts.append(draw(st.text(max_size=12)))
    return " ".join(parts)


@pytest.fixture
def unit(svc):
    seed_admin(svc)
    add_member(svc, "U_SSP", "member", "SSP")
    add_member(svc, "U_MENTOR", "mentor", "EKP")
    ref = new_case(svc)
    ok(svc, ADMIN, f"case qualify {ref} level=preventive")
    ok(svc, ADMIN, f"case refer {ref} to=SOF")
    new_case(svc)
    return svc


def _crash_free(reply: Reply, caplog: pytest.LogCaptureFixture) -> None:
    assert isinstance(reply, Reply)
    assert isinstance(reply.text, str) and reply.text
    assert "error id" not in reply.text, reply.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@DB_SETTINGS
@given(text=st.text(max_size=120))
def test_arbitrary_text_never_raises_and_always_replies(unit, caplog, text):
    caplog.clear()
    for user in (ADMIN, "U_MENTOR", "U_STRANGER"):
        _crash_free(run(unit, user, text), caplog)


@DB_SETTINGS
@given(text=commands(), user=st.sampled_from([ADMIN, "U_SSP", "U_MENTOR", "U_STRANGER"]))
def test_plausible_commands_never_crash_and_failures_store_nothing(unit, caplog, text, user):
    caplog.clear()
    before = row_counts(unit)
    reply = run(unit, user, text)
    _crash_free(reply, caplog)
    if not reply.ok:
        after = row_counts(unit)
        # A refusal writes its audit entry; nothing else changes.
        assert {k: v for k, v in after.items() if k != "auditentry"} == \
            {k: v for k, v in before.items() if k != "auditentry"}
        assert reply.private


@DB_SETTINGS
@given(values=st.dictionaries(st.sampled_from(["severity", "track", "source", "district", "basis", "indicators",
                                               "received", "summary", "subject1_age", "subject1_identifier",
                                               "subject2_age", "subject2_identifier", "identifier", "purpose",
                                               "age", "bogus"]),
                              st.one_of(st.sampled_from(VALUES), st.text(max_size=20))),
       form_id=st.sampled_from(["concern.intake", "concern.lookup", "case.subject", "no.such.form"]))
def test_arbitrary_form_submissions_never_crash(unit, caplog, values, form_id):
    caplog.clear()
    result = submit_form(unit, Invocation(ADMIN, ""), form_id, values, {"case": "KE-2026-0002"})
    assert result.reply is not None or result.errors
    if result.reply is not None:
        _crash_free(result.reply, caplog)


@pytest.mark.parametrize("text, expected", [
    ("case list later", "Usage: `case list [open|mine|overdue|closed|all]`"),
    ("case show KE-2026-0001 colour=red", "Unknown argument `colour=`"),
    ("case qualify KE-2026-0002 level=extreme", "Choices: preventive, pre-emptive, intervening"),  # in words
    (SEVERITY_HIGH_CONCERN.replace("severity=high", "severity=extreme"), "`severity=extreme` is not known"),
    (SEVERITY_HIGH_CONCERN.replace("track=child ", ""), "Missing `track=…`"),
    (SEVERITY_HIGH_CONCERN.replace("Nørrebro", "Atlantis"), "Indre By"),
    (SEVERITY_HIGH_CONCERN + " severity=normal", "given twice"),
    ('case note KE-2026-0001 "unclosed', "not closed"),
    ("case show KE-26-1", "is not a case reference"),
    ("case show", "Missing case reference"),
    ("case show KE-2026-0099", "does not exist"),
    ("unit add role=member org=SSP", "Name a user"),
    ("unit add <@U_X> role=boss org=SSP", "Choices: admin, secretariat, member, adhoc, mentor"),
])
def test_bad_input_gets_a_private_reply_with_the_usage_line(unit, text, expected):
    before = row_counts(unit)
    reply = run(unit, ADMIN, text)
    assert not reply.ok and reply.private
    assert expected in reply.text
    if "does not exist" not in expected and "not closed" not in expected and "given twice" not in expected:
        assert "Usage: `" in reply.text
    assert row_counts(unit) == before


@pytest.mark.parametrize("text, hint", [
    ("", "Type a command"), ("   ", "Type a command"), ("frobnicate", "Unknown command `frobnicate`"),
    ("case frobnicate", "case show KE-…"), ("unit", "unit add @user"),
])
def test_unknown_commands_are_explained(unit, text, hint):
    reply = run(unit, ADMIN, text)
    assert not reply.ok and reply.private and hint in reply.text


def test_help_and_per_command_help(unit):
    assert "concern" in run(unit, ADMIN, "help").text
    assert "case refer KE-… to=ORG" in run(unit, ADMIN, "help case refer").text
    assert "case refer KE-… to=ORG" in run(unit, ADMIN, "case refer help").text
    later = sorted(c.name for c in TABLE.commands.values() if c.handler is None)
    if later:  # commands of later releases answer politely
        assert "arrives in a later version" in run(unit, ADMIN, f"help {later[0]}").text
        assert "not available yet" in run(unit, ADMIN, later[0]).text


def test_a_crash_mid_use_case_rolls_back_everything(unit, caplog, monkeypatch):
    def boom(*_a, **_kw):
        raise RuntimeError("Udtaler støtte til IS")  # an exception message may echo user input

    monkeypatch.setattr(concerns, "add_subject", boom)
    before = row_counts(unit)
    caplog.set_level(logging.DEBUG)
    reply = run(unit, ADMIN, SEVERITY_HIGH_CONCERN)
    assert not reply.ok and "error id" in reply.text and "Traceback" not in reply.text
    assert row_counts(unit) == before  # no case, no counter step, no event, no outbox row
    assert "Udtaler" not in caplog.text and "concern new" in caplog.text
    monkeypatch.undo()
    assert "KE-2026-0003" in ok(unit, ADMIN, SEVERITY_HIGH_CONCERN).text


def test_a_retried_platform_request_is_acted_on_once(unit):
    first = dispatch(unit, Invocation(ADMIN, SEVERITY_HIGH_CONCERN, request_id="req-1"))
    again = dispatch(unit, Invocation(ADMIN, SEVERITY_HIGH_CONCERN, request_id="req-1"))
    assert "KE-2026-0003" in first.text
    assert "already been handled" in again.text
    assert row_counts(unit)["cases"] == 3


def test_pseudonyms_are_read_back_leniently(unit):
    p = pseudonyms(unit, "KE-2026-0001")[0]
    for written in (p, p.lower(), f"{p[:4]}-{p[4:]}", f"{p[:4]} {p[4:]}".replace(" ", "-")):
        reply = run(unit, ADMIN, f"case offer KE-2026-0001 subject={written} kind=other")
        assert reply.ok or "already has a pending" in reply.text
