"""Every command's form, generated from the registry: a command with a required argument beyond its reference
opens a form when typed bare; the form renders as a valid Slack modal, an Adaptive Card 1.5 and console
prompts; a submission with wrong fields reports every one of them at once; a right one does exactly what the
typed command does (same reply, same audit, same timeline)."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from slack_sdk.models.views import View
from sqlmodel import col, select

from bot.console import Console
from bot.slack.render import modal
from bot.teams.render import form_card
from commands import registry
from commands.context import Ctx, Services
from commands.forms import submission as forms
from commands.reply import Form, Invocation, Reply
from commands.router import TABLE, dispatch, submit_form
from storage.db import unit_of_work
from storage.models import AuditEntry, Case, CaseEvent, MeetingSeries, OutboxMessage
from tests.conftest import make_settings, make_svc
from tests.meetings.mtkit import seed

REF_WORDS = {"KE-…": "KE-2026-0001", "M-…": "M-2026-001", "S-…": "S-1", "F-…": "F-1", "H-…": "H-2026-0001"}
PSEUDONYM = re.compile(r"\b[A-Z0-9]{8}\b")
SERIES = 'meeting series add name="Koordineringsmøde" every="hver anden torsdag kl. 9" duration=90m'
ELEMENTS_1_5 = {"AdaptiveCard", "TextBlock", "FactSet", "ActionSet", "Container", "ColumnSet", "Column", "Image",
                "Input.Text", "Input.ChoiceSet", "Input.Date", "Input.Time", "Input.Number", "Input.Toggle",
                "Action.Execute", "Action.ShowCard", "Action.OpenUrl", "Action.Submit",
                "Data.Query"}  # Teams' typeahead over a dataset (a people picker's `choices.data`)


def required_arguments(cmd: registry.Command) -> list[str]:
    """The usage line's arguments that are neither optional ([…]) nor a reference (KE-…, M-…)."""
    usage = re.sub(r"\[[^\]]*\]", "", cmd.usage).split(" | ")[0]
    rest = usage.split()[len(cmd.path):]
    return [w for w in rest if w not in REF_WORDS and w != "…"]


def bare(cmd: registry.Command) -> str:
    """The command typed with nothing but its references."""
    usage = re.sub(r"\[[^\]]*\]", "", cmd.usage).split(" | ")[0]
    refs = [REF_WORDS[w] for w in usage.split()[len(cmd.path):] if w in REF_WORDS]
    return " ".join([cmd.name, *refs])


def commands_needing_a_form() -> list[registry.Command]:
    return [c for c in sorted(TABLE.commands.values(), key=lambda c: c.path)
            if c.handler is not None and required_arguments(c)]


def prepare(svc: Services) -> None:
    """Members, two cases (the first qualified), a fortnightly series (M-2026-001 …), an advice contact."""
    seed(svc)
    for summary in ("Udtaler støtte til IS", "Deler propaganda"):
        ok(svc, f'concern new severity=high track=child age=15-17 source=school district=Valby basis=rpl115 '
                f'summary="{summary}"')
    ok(svc, "case qualify KE-2026-0001 level=preventive")
    ok(svc, SERIES)
    ok(svc, 'concern advice source=school topic=signs "Lærer spurgte til tegn"')  # H-2026-0001


def ok(svc: Services, text: str, user: str = "ADMIN") -> Reply:
    reply = dispatch(svc, Invocation(user, text))
    assert reply.ok, (text, reply.text)
    return reply


@pytest.fixture
def unit(svc: Services) -> Services:
    prepare(svc)
    return svc


def test_every_command_with_a_required_argument_has_a_form() -> None:
    """Generated from the registry: add a command with a required option, and this fails until it has a form
    (commands/forms/table.py) or opens one itself when typed bare (the intake, a case's person)."""
    own = {"concern new", "case subject add"}  # their own forms (identifiers): commands/cases/
    missing = [c.name for c in commands_needing_a_form()
               if TABLE.form_of(c) is None and c.name not in own]
    assert missing == []


@pytest.mark.parametrize("name", [c.name for c in commands_needing_a_form()])
def test_typed_bare_it_opens_its_form(unit: Services, name: str) -> None:
    cmd = TABLE.commands[tuple(name.split())]
    reply = dispatch(unit, Invocation("ADMIN", bare(cmd)))
    assert reply.form is not None, (bare(cmd), reply.text)
    check_renderings(unit, reply.form)


def test_a_case_command_typed_without_its_case_asks_for_the_case_too(unit: Services) -> None:
    form = dispatch(unit, Invocation("ADMIN", "case close")).form
    assert form is not None and [f.name for f in form.fields] == ["case", "reason"]
    result = submit_form(unit, Invocation("ADMIN", ""), form.form_id, {"case": "KE-2026-0002",
                                                                         "reason": "unfounded"}, form.context)
    assert not result.errors and result.reply is not None and "KE-2026-0002" in result.reply.text


def check_renderings(svc: Services, form: Form) -> None:
    View(**modal(form, "en", {"ch": "C1"})).validate_json()
    card = form_card(form, "en")
    assert card["version"] == "1.5"

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            kind = node.get("type")
            if isinstance(kind, str) and kind[:1].isupper():
                assert kind in ELEMENTS_1_5, kind
                if kind.startswith("Input."):
                    assert node.get("id"), node
                if kind == "Input.ChoiceSet":  # static choices, or Teams' typeahead over a dataset (people)
                    assert node["choices"] or node.get("choices.data", {}).get("type") == "Data.Query", node
                    assert all({"title", "value"} <= set(c) for c in node["choices"]), node
                if kind == "Input.Toggle":
                    assert node.get("title"), node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    out = io.StringIO()
    Console(svc, "ADMIN", out, iter(["cancel"])).fill(form)
    assert form.fields[0].label in out.getvalue()


def _wrong(field: Any) -> str | None:
    """A value this field refuses (None: any text will do for it)."""
    if field.kind in ("select", "member") and field.options:
        return "zzzz"
    if field.kind == "multiselect" and field.options:
        return "zzzz"
    if field.kind == "date":
        return "the day after never"
    if field.kind == "time":
        return "25:99"
    if field.required:
        return ""
    return None


@pytest.mark.parametrize("form_id", sorted(TABLE.command_forms) if TABLE.command_forms else
                         [f"{'.'.join(c.path)}" for c in commands_needing_a_form()])
def test_wrong_fields_are_all_reported_at_once_and_nothing_changes(unit: Services, form_id: str) -> None:
    spec = TABLE.command_forms[form_id]
    cmd = TABLE.commands[spec.path]
    reply = dispatch(unit, Invocation("ADMIN", bare(cmd)))
    form = reply.form
    if form is None:  # opens only from a button (nothing required): its fields are still checked
        with unit_of_work(unit.engine) as session:
            form = forms.opened(Ctx(unit, session, Invocation("ADMIN", "")), spec, None, {})
    wrong = {f.name: v for f in form.fields if (v := _wrong(f)) is not None}
    before = counts(unit)
    result = submit_form(unit, Invocation("ADMIN", ""), form.form_id, wrong, form.context)
    assert result.reply is None and set(wrong) <= set(result.errors), (wrong, result.errors)
    assert counts(unit) == before


def counts(svc: Services) -> tuple[int, int, int]:
    with unit_of_work(svc.engine) as session:
        return (len(session.exec(select(AuditEntry.id)).all()), len(session.exec(select(CaseEvent.id)).all()),
                len(session.exec(select(OutboxMessage.id)).all()))


# The same effect, typed or by form: (form, its context, the values picked, the same command typed).
SAME = [
    ("case.refer", {"case": "KE-2026-0001"}, {"to": "SOF", "owner": "SSP1"},
     "case refer KE-2026-0001 to=SOF owner=<@SSP1>"),
    ("case.close", {"case": "KE-2026-0002"}, {"reason": "unfounded"}, "case close KE-2026-0002 reason=unfounded"),
    ("case.checked", {"case": "KE-2026-0001"}, {"org": "SSP", "found": "no"},
     "case checked KE-2026-0001 org=SSP found=no"),
    ("case.note", {"case": "KE-2026-0001"}, {"text": "Skolen melder fravær"},
     'case note KE-2026-0001 "Skolen melder fravær"'),
    ("case.hold", {"case": "KE-2026-0001"}, {"reason": "Efterforskning"},
     'case hold KE-2026-0001 reason="Efterforskning"'),
    ("followup.add", {"case": "KE-2026-0001"}, {"text": "Ring til skolen", "due": "1-12-2026"},
     'followup add KE-2026-0001 due=2026-12-01 "Ring til skolen"'),
    ("meeting.adhoc", {}, {"topic": "Ekstra", "when_date": "2026-12-02", "when_time": "14:00", "duration": "60m"},
     'meeting adhoc when="2026-12-02 14:00" duration=60m topic="Ekstra"'),
    ("meeting.move", {"meeting": "M-2026-001"}, {"when_date": "2026-11-27", "when_time": "10:00"},
     'meeting move M-2026-001 when="2026-11-27 10:00"'),
    ("meeting.series.add", {}, {"name": "Styregruppe", "weekdays": "TU", "interval": "2", "time": "13:30",
                                "duration": "60m", "holidays": "next_workday"},
     'meeting series add name="Styregruppe" every="hver anden tirsdag kl. 13.30" duration=60m '
     "holidays=next_workday"),
    ("unit.add", {}, {"user": "NEW1", "role": "member", "org": "politiet", "name": "Ny"},
     'unit add <@NEW1> role=member org=POLICE name="Ny"'),
    ("unit.remove", {}, {"user": "BUF1"}, "unit remove <@BUF1>"),
    ("report.annual", {}, {"year": "2026", "format": "csv"}, "report annual year=2026 format=csv"),
    ("case.severity", {"case": "KE-2026-0001"}, {"severity": "kritisk", "reason": "Ny viden"},
     'case severity KE-2026-0001 critical reason="Ny viden"'),
    ("case.release-date", {"case": "KE-2026-0001"}, {"date": "30-6-2027"}, "case release-date KE-2026-0001 2027-06-30"),
    ("case.disclose", {"case": "KE-2026-0001"}, {"to": "POLICE", "basis": "rpl115", "what": "identity,concern",
                                                 "note": "Til brug for besøget"},
     'case disclose KE-2026-0001 to=POLICE basis=rpl115 what=identity,concern "Til brug for besøget"'),
    ("concern.advice", {}, {"source": "skole", "topic": "signs", "advice": "Rådgivet om samtale"},
     'concern advice source=school topic=signs "Rådgivet om samtale"'),
    ("concern.promote", {"contact": "H-2026-0001"}, {"severity": "high", "track": "child", "basis": "rpl115",
                                                     "age": "15-17"},
     "concern promote H-2026-0001 severity=high track=child age=15-17 basis=rpl115"),
    ("unit.procedure.add", {"track": "voksen"}, {"title": "Kontakt jobcentret", "responsible": "SOF",
                                                 "anchor": "referred", "due": "2wd", "required": "yes", "at": "1"},
     'unit procedure add voksen "Kontakt jobcentret" responsible=SOF anchor=referred due=2wd required=yes '
     "agenda=no at=1"),
    ("unit.procedure.remove", {}, {"track": "child", "n": "1"}, "unit procedure remove child 1"),
    ("unit.procedure.move", {"track": "child"}, {"n": "1", "place": "2"}, "unit procedure move child 1 place=2"),
]


@pytest.fixture
def twin(second_db_url: str, clock: Any) -> Any:
    svc = make_svc(make_settings(second_db_url), clock)
    prepare(svc)
    yield svc
    svc.engine.dispose()


def effect(svc: Services) -> dict[str, Any]:
    with unit_of_work(svc.engine) as session:
        audit = [(a.action, a.case_ref, a.result, a.detail) for a in session.exec(
            select(AuditEntry).order_by(col(AuditEntry.id)))]
        events = [(e.case_id, e.kind, PSEUDONYM.sub("…", e.data))  # a person without an identifier: random
                  for e in session.exec(select(CaseEvent).order_by(col(CaseEvent.id)))]
        cases = [(c.ref, c.state, c.responsible_org) for c in session.exec(select(Case).order_by(col(Case.id)))]
        series = [(s.name, s.rrule, s.duration_min, s.holiday_policy) for s in session.exec(select(MeetingSeries))]
        outbox = len(session.exec(select(OutboxMessage.id)).all())
    return {"audit": audit, "events": events, "cases": cases, "series": series, "outbox": outbox}


@pytest.mark.parametrize("form_id, context, values, typed", SAME, ids=[s[0] for s in SAME])
def test_a_right_submission_does_what_the_typed_command_does(unit: Services, twin: Services, form_id: str,
                                                              context: dict[str, str], values: dict[str, str],
                                                              typed: str) -> None:
    by_hand = ok(unit, typed)
    result = submit_form(twin, Invocation("ADMIN", ""), form_id, values, context)
    assert not result.errors and result.reply is not None, result.errors
    assert result.reply.text == by_hand.text and result.reply.fields == by_hand.fields
    assert [a.data for a in result.reply.attachments] == [a.data for a in by_hand.attachments]
    assert effect(twin) == effect(unit)


def test_typed_choices_take_codes_and_words_in_either_language_and_suggest_a_near_miss(unit: Services) -> None:
    ok(unit, "case checked KE-2026-0001 org=ssp")
    ok(unit, "case refer KE-2026-0001 to=politiet")
    ok(unit, "concern new severity=Høj track=barn age=15-17 source=skole district=valby basis=rpl115 "
             'summary="Bekymring"')
    ok(unit, "unit add <@NEW2> role=medlem org=Socialforvaltningen")
    ok(unit, "concern new severity=normal track=voksen age=25+ source=politi district=norrebro basis=RPL115 "
             'summary="Bekymring"')
    with unit_of_work(unit.engine) as session:
        assert session.exec(select(Case.district).where(Case.ref == "KE-2026-0004")).one() == "Nørrebro"
    reply = dispatch(unit, Invocation("ADMIN", "case close KE-2026-0002 reason=unfoundd"))
    assert not reply.ok and "Did you mean *unfounded*?" in reply.text
    assert "Choices: unfounded, handed to the ordinary system" in reply.text  # words, never codes


def test_a_form_value_typed_as_a_word_is_resolved_and_a_near_miss_is_suggested(unit: Services) -> None:
    result = submit_form(unit, Invocation("ADMIN", ""), "case.refer", {"to": "Politet"}, {"case": "KE-2026-0001"})
    assert result.errors == {"to": '"Politet" is not one of the choices. Did you mean *POLICE*?'}
    assert json.dumps(result.errors)  # plain text for every platform


def test_a_meeting_time_in_the_past_is_reported_on_the_date_field(unit: Services) -> None:
    result = submit_form(unit, Invocation("ADMIN", ""), "meeting.adhoc",
                         {"topic": "x", "when_date": "2026-11-20", "when_time": "10:00", "duration": "60m"}, {})
    assert set(result.errors) == {"when_date"} and "past" in result.errors["when_date"]


def test_help_and_the_home_carry_the_tasks_of_the_role_as_buttons_that_open_forms(unit: Services) -> None:
    from commands.guide.home import home

    admin = dispatch(unit, Invocation("ADMIN", "help"))
    assert admin.text.startswith("*What you can do*") and "• Register a concern — `concern`" in admin.text
    tasks = {b.label: b.command for b in admin.buttons}
    assert tasks["Set up a meeting"] == "meeting series add" and tasks["Close a case"] == "case close"
    for command in ("concern", "case close", "meeting series add", "unit add", "report annual", "case note"):
        assert dispatch(unit, Invocation("ADMIN", command)).form is not None, command
    mentor = dispatch(unit, Invocation("MENTOR", "help"))
    assert [b.command for b in mentor.buttons] == ["case list mine", "mentor log"]
    assert [b.command for b in home(unit, "ADMIN").buttons][-len(tasks):] == list(tasks.values())


def test_a_near_miss_in_a_danish_form_is_suggested_in_the_words_the_form_shows(unit: Services) -> None:
    import dataclasses

    da = dataclasses.replace(unit, settings=unit.settings.model_copy(update={"bot_language": "da"}))
    result = submit_form(da, Invocation("ADMIN", ""), "case.close", {"reason": "ubegrundt"}, {"case": "KE-2026-0002"})
    assert result.errors == {"reason": "«ubegrundt» er ikke en af mulighederne. Mente du *ubegrundet*?"}
    result = submit_form(da, Invocation("ADMIN", ""), "case.respond", {"subject": "x", "kind": "mentor",
                                                                       "answer": "ja"}, {"case": "KE-2026-0001"})
    assert "answer" not in result.errors  # "Takket ja" may be typed as "ja"
