"""The console adapter in-process: forms answered line by line, posts and DMs printed and marked."""

from __future__ import annotations

import dataclasses
import io

from sqlmodel import func, select

from bot.console import Console
from storage.db import unit_of_work
from storage.models import Case, OutboxMessage

INTAKE = ["concern", "1", "4", "4", "Valby", "rpl115", "", "", ""]  # critical, crime, social; received: now
SUBJECT = ["18-24", ""]
REST = ["", "", "", ""]


def count_cases(svc) -> int:
    with unit_of_work(svc.engine) as session:
        return session.exec(select(func.count()).select_from(Case)).one()


def test_first_user_on_an_empty_database_becomes_admin(console):
    out = console.run("newcomer", "unit members", bootstrap=True)
    assert "Empty database: newcomer was created as admin." in out
    assert "you are newcomer (admin)" in out
    assert "@newcomer · admin · BIF" in out


def test_second_user_is_not_made_admin(console):
    console.run("first", bootstrap=True)
    out = console.run("second", "case list", bootstrap=True)
    assert "Empty database" not in out and "you are second (—)" in out
    assert "not a member" in out


def test_intake_form_by_numbered_choices(console, svc):
    console.run("admin", bootstrap=True)
    out = console.run("admin", *INTAKE, "Bekymring fra politiet", *SUBJECT, *REST)
    assert "Registered as KE-2026-0001. Visitation deadline (24 h): 24 Nov 2026, 10:00." in out
    with unit_of_work(svc.engine) as session:
        case = session.exec(select(Case)).one()
    assert (case.severity, case.track, case.source, case.district) == ("critical", "crime", "social", "Valby")
    assert "┌─ channel #unit\n│ New concern KE-2026-0001 · critical · crime" in out


def test_a_refused_answer_is_asked_again_and_nothing_is_stored_meanwhile(console, svc):
    console.run("admin", bootstrap=True)
    out = console.run("admin", *INTAKE, "Ring til far på 22 33 44 55", *SUBJECT, *REST,
                      "Far vil ikke kontaktes")
    assert "! Summary: Refused — nothing was stored. The field contains what looks like a phone number" in out
    assert "22 33 44 55" not in out.split("! Summary:")[1]
    assert out.count("Summary *") == 2  # only the refused field is asked again
    assert "Registered as KE-2026-0001" in out
    assert count_cases(svc) == 1


def test_a_form_is_cancelled_with_a_dot(console, svc):
    console.run("admin", bootstrap=True)
    out = console.run("admin", "concern", "high", "child", ".", "case list")
    assert "Form cancelled; nothing was stored." in out
    assert "No cases (open)." in out
    assert count_cases(svc) == 0


def test_refusals_never_throw_the_form_away_the_user_cancels_it(console, svc):
    """A form is asked again for as long as it takes (only the refused field, the rest kept); it ends when the
    user says so (`afbryd`/`cancel`), never on its own after a number of rounds."""
    console.run("admin", bootstrap=True)
    out = console.run("admin", *INTAKE, "mail a@b.dk", *SUBJECT, *REST, "mail c@d.dk", "mail e@f.dk",
                      "mail g@h.dk", "cancel", "case list")
    assert out.count("! Summary:") == 4
    assert "Form cancelled; nothing was stored." in out and "No cases (open)." in out


def test_identifier_prompts_use_the_secret_prompt_when_there_is_a_terminal(svc):
    asked: list[str] = []
    answers = iter(["010203-1234", "", ""])

    def secret(prompt: str) -> str:
        asked.append(prompt)
        return next(answers)

    out = io.StringIO()
    Console(svc, "admin", out, iter(["concern", "high", "child", "social", "Valby", "rpl115", "", "", "",
                                     "Bekymring", "15-17", "", "", "", ""]), secret).run()
    assert len(asked) == 3 and all("never stored" in p for p in asked)
    assert "010203" not in out.getvalue()
    assert "Registered as KE-2026-0001" in out.getvalue()


def test_posts_and_dms_are_printed_once_and_marked_sent(console, svc):
    console.run("admin", bootstrap=True)
    out = console.run("admin", "unit add <@ann> role=member org=SSP", "case list")
    assert out.count("┌─ DM to @ann") == 1
    with unit_of_work(svc.engine) as session:
        states = set(session.exec(select(OutboxMessage.state)))
    assert states == {"sent"}
    assert "DM to @ann" not in console.run("admin", "case list")


def test_mentions_read_as_people_are_written_in_a_terminal(console):
    console.run("admin", bootstrap=True)
    out = console.run("admin", "unit add <@ann|Ann> role=member org=SSP", "unit audit verify", "unit members")
    assert "@ann is now member (SSP)." in out and "@admin · admin · BIF" in out
    assert "<@" not in out.replace("> unit add <@ann|Ann>", "")


def test_danish_console(svc):
    da = dataclasses.replace(svc, settings=svc.settings.model_copy(update={"bot_language": "da"}))
    out = io.StringIO()
    Console(da, "admin", out, iter(["case list", "concern", "."])).run()
    text = out.getvalue()
    assert "Tom database: admin er oprettet som administrator." in text
    assert "┌─ privat" in text and "Ingen sager (åbne)." in text
    assert "Formularen er afbrudt; intet er gemt." in text


def test_a_series_changed_moved_and_ended_at_the_console_carries_the_calendar_updates(console, svc):
    console.run("admin", bootstrap=True)
    out = console.run("admin", "unit add <@ann> role=member org=SSP",
                      'meeting series add name="Koordineringsmøde" rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH" '
                      "time=09:00 duration=90m holidays=skip",
                      'meeting series edit S-1 rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"',
                      'meeting move M-2026-004 when="2026-12-09 10:00"',
                      "meeting series end S-1 from=2027-02-01", "meeting series list",
                      "meeting series end S-1 from=2027-06-01")
    assert "every other Tuesday at 09:00" in out and "M-2026-004 is moved" in out
    assert "S-1 · Koordineringsmøde" in out and "ends 31 Jan 2027" in out
    assert out.count("┌─ DM to @ann") >= 4  # the invitation and three updates
    assert "has no meetings from" in out  # ending it again is refused, nothing changed
    assert "(📎 series-1.ics" in out and "(📎 M-2026-001.ics" in out  # the update and a dropped Thursday


def test_a_form_asks_again_only_for_the_wrong_fields_keeping_the_rest_and_a_dash_empties_one(console, svc):
    console.run("admin", bootstrap=True)
    out = console.run("admin", "meeting series add", "Koordineringsmøde", "4", "2", "kl 25", "", "", "someday",
                      "9", "-", "meeting series list")
    assert "! Time: Write a time of day" in out and "! First date: Write a date" in out
    assert "Time * (e.g. 9, 9:30, 14:00) [kl 25]: " in out  # what was typed is shown, to correct
    assert out.count("Name *") == 1 and out.count("Duration *") == 1  # the right fields are not asked again
    assert "every other Thursday at 09:00 · 90 min" in out


def test_emphasis_reads_without_asterisks_in_a_pipe(console):
    out = console.run("admin", "help", bootstrap=True)
    assert "concern — register and look up" in out
    assert "*concern*" not in out and "\x1b[" not in out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_emphasis_is_bold_on_a_terminal(svc):
    out = _Terminal()
    Console(svc, "admin", out, iter(["help"])).run()
    assert "\x1b[1mconcern\x1b[0m — register and look up" in out.getvalue()


def test_asterisks_that_are_not_emphasis_stay():
    from bot import escaping
    assert escaping.console("2*3*4 and a * b *") == "2*3*4 and a * b *"
    assert escaping.console("Did you mean *unfounded*?") == "Did you mean unfounded?"
