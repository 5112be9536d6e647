"""One message catalog, Danish and English: every key complete, every key the code names exists."""

from __future__ import annotations

import dataclasses
import re
import string
from pathlib import Path
from typing import get_args

import pytest
from cmdkit import ADMIN, SEVERITY_HIGH_CONCERN, run, seed_admin

from commands.messages import CATALOG, LANGS, t
from commands.reply import Invocation
from commands.router import dispatch
from storage.pii import Kind
from storage.pseudonym import ErrorCode

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [p for room in ("bot", "commands", "scheduler", "storage") for p in (ROOT / room).rglob("*.py")
           if "migrations" not in p.parts]

# t(lang, "key", …) and ctx.t("key", …) with a literal key
LITERAL_T = re.compile(r"""(?:(?<![\w.])t\(\s*[\w.]+\s*,|\.t\()\s*["']([\w.]+)["']\s*[,)]""")
USAGE_ERROR = re.compile(r"""UsageError\(\s*["']([\w.]+)["']""")
REFUSED = re.compile(r"""(?:Refused\(|_refuse\(\s*ctx\s*,)\s*["']([\w.]+)["']""")


def _source_matches(pattern: re.Pattern[str]) -> set[str]:
    found: set[str] = set()
    for path in SOURCES:
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            found.add(next(g for g in match.groups() if g))
    return found


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_sources_are_found():
    assert any(p.name == "router.py" for p in SOURCES)
    assert len(_source_matches(LITERAL_T)) > 50


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_every_key_has_both_languages_with_the_same_placeholders(key):
    entry = CATALOG[key]
    assert len(entry) == len(LANGS) == 2
    da, en = entry
    assert da.strip() and en.strip()
    assert _placeholders(da) == _placeholders(en), key


def test_every_literal_key_used_in_code_exists():
    missing = sorted(_source_matches(LITERAL_T) - set(CATALOG))
    assert missing == []


def test_every_usage_error_and_refusal_has_a_message():
    usage = {f"usage.{k}" for k in _source_matches(USAGE_ERROR)}
    refused = {f"refused.{k}" for k in _source_matches(REFUSED)}
    assert len(usage) > 20 and "refused.unknown_user" in refused
    assert sorted((usage | refused) - set(CATALOG)) == []


def test_every_identifier_error_and_pii_kind_has_a_message():
    for code in get_args(ErrorCode):
        assert f"identifier.{code}" in CATALOG
    for kind in get_args(Kind):
        assert f"pii.{kind}" in CATALOG


def test_every_command_and_group_has_help():
    from commands import registry
    from commands.router import load_usecases

    load_usecases()
    for group in registry.GROUPS:
        if group != "help":
            assert f"help.group.{group}" in CATALOG
    for cmd in registry.COMMANDS.values():
        if cmd.handler is not None:
            assert "help." + ".".join(cmd.path) in CATALOG, cmd.name


def test_unknown_key_falls_back_to_the_key_and_bad_params_do_not_raise():
    assert t("en", "no.such.key") == "no.such.key"
    assert t("en", "concern.created") == CATALOG["concern.created"][1]
    assert t("xx", "none") == "ingen"  # unknown language: Danish, the default


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
