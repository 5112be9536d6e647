"""The message catalogs (gettext .po files, commands/locale/<lang>/LC_MESSAGES/koordinator.po): every id in Danish
and English with the same placeholders, every id the code names exists (found by `pybabel extract`'s own run over
pyproject's [tool.babel] configuration), keys built at run time complete, and the API's fallbacks."""

from __future__ import annotations

import dataclasses
import string
from pathlib import Path
from typing import get_args

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from cmdkit import ADMIN, SEVERITY_HIGH_CONCERN, run, seed_admin

from commands import messages
from commands.locale import extraction
from commands.messages import t
from commands.reply import Invocation
from commands.router import dispatch
from storage.pii import Kind
from storage.pseudonym import ErrorCode

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [p for room in ("bot", "commands", "scheduler", "storage") for p in (ROOT / room).rglob("*.py")
           if "migrations" not in p.parts]
SHIPPED = ("da", "en")


def _po(lang: str):
    with (messages.LOCALE_DIR / lang / "LC_MESSAGES" / "koordinator.po").open("rb") as fileobj:
        return read_po(fileobj)


def _entries(lang: str) -> dict[tuple[str | None, str], str]:
    """(context, id) → text; a plural entry's forms joined by a newline (its id: the singular id)."""
    return {(m.context, m.id[0] if isinstance(m.id, tuple) else m.id):
            "\n".join(m.string) if isinstance(m.string, tuple) else m.string for m in _po(lang) if m.id}


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _dynamic() -> dict[str, set[str]]:
    """The keys the code builds at run time (`ctx.t(f"rrule.{exc.code}")`): prefix → every suffix it can take."""
    from bot import console
    from commands import registry
    from commands.cases import steps
    from commands.forms import submission as forms
    from commands.guide import tasks
    from commands.meetings import agenda, agenda_build, run
    from commands.profile import procedures
    from commands.reports import kpi
    from commands.time import recurrence
    from commands.unit import takeover, takeover_plan
    from storage.enums import Track

    usage = {k for _, c, k in _extracted_literals() if c is None and k.startswith("usage.")}
    return {
        "identifier.": set(get_args(ErrorCode)),
        "pii.": set(get_args(Kind)),
        "help.group.": set(registry.GROUPS) - {"help"},
        "usage.": {k.removeprefix("usage.") for k in usage},  # the UsageError keys, re-raised
        "usage.tokenize.": {"unclosed_quote", "bad_option", "duplicate_option"},
        "refused.": {k.removeprefix("refused.") for _, c, k in _extracted_literals() if k.startswith("refused.")},
        "steps.state.": {"done" if what == "done" else "skipped" for what in steps.STEP_STATES},
        "agenda.s": {str(n) for n in agenda_build.SECTIONS},
        "agenda.reason.": {"added", "due_before_next", "new_events", "no_findings", "nothing_pending",
                           "offer_pending", "overdue", "reoffer_due", "review_due", "to_qualify"},
        "agenda.status.": {"draft", "draft_sent", "held", "published"},
        "agenda.propose.": {str(track) for track in Track},
        "agenda.col.": {key for key, _ in agenda.COLUMNS},
        "agenda.step_role.": set(agenda.STEP_ROLES),
        "minutes.col.": {"ref", "decision", "due", "followup"},
        "series.policy.": set(recurrence.POLICIES),
        "rrule.": {"freq", "part", "syntax"},
        "report.kpi.": set(kpi.KPI_NAMES),
        "report.section.": {"age", "charts", "closures", "district", "indicators", "kpi", "level", "median",
                            "months", "offers", "referral", "severity", "source", "track"},
        "subject.form.": {"erase", "export"},
        "takeover.problem.": set(takeover_plan.PROBLEMS),
        "takeover.count.": set(takeover.COUNTS),
        "procedure.offset.": set(procedures.UNITS),
        "procedure.role.": set(procedures.ROLES),
        "procedure.anchor.": set(procedures.ANCHORS),
        "form.": set(forms.FIELD_ERRORS),
        "form.choice.": {f"{kind}.{code}" for kind, codes in forms.WORD_CHOICES.items() for code in codes},
        "console.kind.": set(console.PICKED),
        "task.": {key for key, *_ in tasks.TASKS},
        "run.state.": set(run.OUTCOMES),
        # the sweep's DM for a follow-up of each kind but the two it words itself
        "followup.": set(messages.kinds()["followup_kind"]) - {"visitation", "mentor_checkin"},
    }


def _extracted_literals() -> list[tuple[int, str | None, str]]:
    return [hit for path in SOURCES for hit in extraction.messages(path.read_text(encoding="utf-8"))]


def test_the_shipped_languages_are_found_danish_first():
    assert messages.LANGS[:1] == ("da",) and set(SHIPPED) <= set(messages.LANGS)


@pytest.mark.parametrize("lang", SHIPPED)
def test_each_catalog_has_a_gettext_header(lang):
    po = _po(lang)
    assert str(po.locale) == lang and po.plural_forms.startswith("nplurals=")
    assert po.charset.lower() == "utf-8" and not po.fuzzy


@pytest.mark.parametrize("lang", SHIPPED)
def test_each_entry_is_whole_one_text_per_id(lang):
    """Babel's reader takes the first of two `msgstr` lines in one entry and a glued-on `msgid` silently (what a
    line-based merge of two edits of one entry leaves): every entry stands apart and has one text."""
    import re

    text = (messages.LOCALE_DIR / lang / "LC_MESSAGES" / "koordinator.po").read_text(encoding="utf-8")
    for entry in re.split(r"\n\s*\n", text):
        assert len(re.findall(r'^msgid "', entry, re.M)) <= 1, entry
        assert len(re.findall(r'^msgstr "', entry, re.M)) <= 1, entry


def test_every_id_is_in_both_languages_with_the_same_placeholders():
    da, en = _entries("da"), _entries("en")
    assert len(da) > 700
    assert sorted(set(da) ^ set(en)) == []
    for entry, text in da.items():
        assert text.strip() and en[entry].strip(), entry
        assert _placeholders(text) == _placeholders(en[entry]), entry


def translation_problems(entries: dict[tuple[str | None, str], str]) -> list[str]:
    """What is wrong with an added language's catalog against Danish: an id Danish does not have (renamed or
    gone), a translated text whose placeholders differ. Untranslated (empty) entries are fine: Danish shows."""
    da = _entries("da")
    problems = [f"unknown id {entry}" for entry in entries if entry not in da]
    problems += [f"placeholders of {entry}" for entry, text in entries.items()
                 if entry in da and text and _placeholders(text) != _placeholders(da[entry])]
    return problems


@pytest.mark.parametrize("lang", [lang for lang in messages.LANGS if lang not in SHIPPED] or ["(none added)"])
def test_an_added_language_has_the_danish_ids_and_placeholders(lang):
    if lang == "(none added)":
        assert translation_problems({(None, "none"): "inget", (None, "usage.line"): "Använd: `{usage}`",
                                     (None, "usage.gone"): "x", (None, "usage.too_long"): "{option} för lång"}) \
            == ["unknown id (None, 'usage.gone')", "placeholders of (None, 'usage.too_long')"]
        return
    assert translation_problems(_entries(lang)) == []


def test_pybabel_extract_finds_the_ids_and_each_is_in_the_catalogs(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    pot = tmp_path / "koordinator.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", "pyproject.toml", "-o", str(pot), "."])
    with pot.open("rb") as fileobj:
        found = {(m.context, m.id) for m in read_po(fileobj) if m.id}
    assert len(found) > 400 and (None, "concern.created") in found and (None, "usage.bad_choice") in found
    assert (None, "refused.unknown_user") in found
    for lang in SHIPPED:
        assert sorted(found - set(_entries(lang))) == [], lang


def test_extraction_reads_every_shape_the_code_names_a_message_in():
    source = """
t(lang, "a.one", ref=x, sep=", ")
ctx.t("a.two", refs=", ".join(y))
ctx.t("a.three") if x else ctx.t("a.four")
t(lang, "a.five" if x else "a.six")
label(lang, "track", "child")
ctx.label("org", "SSP")
raise UsageError("bad_choice", option="x")
raise Refused("case", ref=r)
_refuse(ctx, "role")
ctx.t(key)
ctx.t(f"help.{name}")
"""
    assert {(c, k) for _, c, k in extraction.messages(source)} == {
        (None, "a.one"), (None, "a.two"), (None, "a.three"), (None, "a.four"), (None, "a.five"), (None, "a.six"),
        ("track", "child"), ("org", "SSP"), (None, "usage.bad_choice"), (None, "refused.case"),
        (None, "refused.role")}
    assert [prefix for _, prefix in extraction.dynamic_keys(source)] == ["help."]


def test_every_key_built_at_run_time_is_listed_and_complete():
    dynamic = _dynamic()
    found = {prefix for path in SOURCES for _, prefix in extraction.dynamic_keys(path.read_text(encoding="utf-8"))}
    assert sorted(found - set(dynamic)) == [], "a new f-string key: list its prefix and vocabulary in _dynamic"
    for prefix, suffixes in dynamic.items():
        assert suffixes, prefix
        assert sorted(prefix + s for s in suffixes if not messages.has(prefix + s)) == [], prefix


def test_every_usage_error_and_refusal_has_a_message():
    usage = {k for _, _, k in _extracted_literals() if k.startswith("usage.")}
    refused = {k for _, _, k in _extracted_literals() if k.startswith("refused.")}
    assert len(usage) > 20 and "refused.unknown_user" in refused
    assert sorted(k for k in usage | refused if not messages.has(k)) == []


def test_every_command_and_group_has_help():
    from commands import registry
    from commands.router import TABLE

    for group in registry.GROUPS:
        if group != "help":
            assert messages.has(f"help.group.{group}")
    for cmd in TABLE.commands.values():
        if cmd.handler is not None:
            assert messages.has("help." + ".".join(cmd.path)), cmd.name


def test_plural_forms_follow_the_count_in_each_language():
    assert [messages.tn("da", "n.cases", n) for n in (0, 1, 2)] == ["0 sager", "1 sag", "2 sager"]
    assert [messages.tn("en", "n.cases", n) for n in (0, 1, 2)] == ["0 cases", "1 case", "2 cases"]
    assert messages.tn("xx", "n.cases", 1) == "1 sag"  # unknown language: Danish
    assert messages.has("n.cases") and "n.cases" in messages.keys()
    assert messages.tn("en", "concern.created", 3) == t("en", "concern.created", n=3)  # a plain entry: one form
    assert [hit for _, _, hit in extraction.messages('ctx.tn("a.b", n)\ntn(lang, "c.d", 2)')] == ["a.b", "c.d"]


def test_unknown_key_falls_back_to_the_key_and_bad_params_do_not_raise():
    assert t("en", "no.such.key") == "no.such.key"
    assert t("en", "concern.created") == _entries("en")[(None, "concern.created")]
    assert t("xx", "none") == "ingen"  # unknown language: Danish, the default
    assert t("en", "usage.too_long") == _entries("en")[(None, "usage.too_long")]  # a missing parameter
    assert messages.label("en", "track", "child") == "child" and messages.label("da", "track", "child") == "barn"
    assert messages.label("da", "district", "Nørrebro") == "Nørrebro" and messages.label("da", "org", None) == "—"


@pytest.fixture
def danish(svc):
    settings = svc.settings.model_copy(update={"bot_language": "da"})
    da = dataclasses.replace(svc, settings=settings)
    seed_admin(da)
    return da


def test_bot_language_da_gives_danish_text(danish):
    reply = run(danish, ADMIN, SEVERITY_HIGH_CONCERN)
    assert reply.text.startswith("Registreret som KE-2026-0001. Visitationsfrist (48 t): 25. nov. 2026 kl. 10.00")
    assert "Brug:" in run(danish, ADMIN, "case list later").text
    assert "Sager (åbne)" in (run(danish, ADMIN, "case list").title or "")
    refused = dispatch(danish, Invocation("U_STRANGER", "case list"))
    assert "Du er ikke medlem af koordineringsenheden" in refused.text
    pii = run(danish, ADMIN, SEVERITY_HIGH_CONCERN.replace("IS", "IS, ring 22 33 44 55"))
    assert "Afvist — intet er gemt" in pii.text and "telefonnummer" in pii.text


def test_bot_language_en_gives_english_text(svc):
    seed_admin(svc)
    reply = run(svc, ADMIN, SEVERITY_HIGH_CONCERN)
    assert reply.text.startswith("Registered as KE-2026-0001. Visitation deadline (48 h): 25 Nov 2026, 10:00")
