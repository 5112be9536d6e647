"""Forms show the reader's words and submit the codes: a Danish user picks "høj", the command gets `high`."""

from __future__ import annotations

import dataclasses
import io

from bot.console import Console
from bot.slack.render import modal
from bot.teams.render import form_card
from commands.cases.concerns import intake_form
from commands.context import Ctx
from commands.forms import submission as forms
from commands.reply import Invocation
from commands.router import TABLE
from storage.db import unit_of_work


def _form(svc, lang: str):
    svc = dataclasses.replace(svc, settings=svc.settings.model_copy(update={"bot_language": lang}))
    with unit_of_work(svc.engine) as session:
        return intake_form(Ctx(svc, session, Invocation("x", "")))


def test_slack_modal_and_teams_card_offer_words_with_codes_as_values(svc):
    form = _form(svc, "da")
    blocks = {b["block_id"]: b for b in modal(form, "da", {})["blocks"] if b.get("block_id")}
    severity = blocks["severity"]["element"]["options"]
    assert [(o["text"]["text"], o["value"]) for o in severity] == [("kritisk", "critical"), ("høj", "high"),
                                                                   ("normal", "normal")]
    body = form_card(form, "da")["body"]
    track = next(e for e in body if e.get("id") == "track")
    assert {"title": "barn", "value": "child"} in track["choices"]


def test_the_referral_form_names_the_authorities(svc):
    """The referral is a registered form (commands/forms/table.py): Slack and Teams draw it from the same fields."""
    da = dataclasses.replace(svc, settings=svc.settings.model_copy(update={"bot_language": "da"}))
    with unit_of_work(da.engine) as session:
        form = forms.opened(Ctx(da, session, Invocation("x", "")), TABLE.command_forms["case.refer"], None,
                            {"case": "KE-2026-0001"})
    options = modal(form, "da", {})["blocks"][0]["element"]["options"]
    assert ("Politiet", "POLICE") in [(o["text"]["text"], o["value"]) for o in options]
    choices = next(e for e in form_card(form, "da")["body"] if e.get("id") == "to")["choices"]
    assert {"title": "Kriminalforsorgen", "value": "KRIM"} in choices


def test_the_console_numbers_the_words_and_takes_the_code_or_the_number(svc):
    da = dataclasses.replace(svc, settings=svc.settings.model_copy(update={"bot_language": "da"}))
    out = io.StringIO()
    Console(da, "admin", out, iter(["concern", "."])).run()
    assert "Alvor * [valg: 1=kritisk, 2=høj, 3=normal]" in out.getvalue()
