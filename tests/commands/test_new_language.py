"""A unit adds a language by translating a file: a third catalog beside da and en (here a tiny Swedish one in a
temporary directory) makes BOT_LANGUAGE=sv work end to end, its entries in Swedish, the rest in Danish, dates and
numbers as Babel writes Swedish."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from cmdkit import ADMIN, SEVERITY_HIGH_CONCERN, run, seed_admin, submit
from pydantic import ValidationError

from commands import messages
from commands.services import build_services, language_problem
from storage.profile import shipped_text
from storage.settings import Settings

SWEDISH = {
    "usage.empty": "Skriv ett kommando, t.ex. `help`.",
    "concern.created": "Registrerad som {ref}. Visiteringsfrist ({hours} h): {deadline}.",
}


@pytest.fixture
def swedish(tmp_path: Path) -> Iterator[Path]:
    locale = tmp_path / "locale"
    for lang in ("da", "en"):
        shutil.copytree(messages.LOCALE_DIR / lang, locale / lang)
    po = Catalog(locale="sv", domain=messages.DOMAIN, fuzzy=False)
    for key, text in SWEDISH.items():
        po.add(key, text)
    po.add("high", "hög", context="severity")
    po.add("child", "", context="track")  # not translated yet: Danish shows
    (locale / "sv" / "LC_MESSAGES").mkdir(parents=True)
    with (locale / "sv" / "LC_MESSAGES" / "koordinator.po").open("wb") as fileobj:
        write_po(fileobj, po)
    messages.use(locale)
    yield locale
    messages.use(messages.LOCALE_DIR)


def test_a_catalog_in_the_locale_directory_is_a_language(swedish):
    assert messages.LANGS == ("da", "en", "sv")
    assert messages.t("sv", "usage.empty") == SWEDISH["usage.empty"]
    assert messages.t("sv", "none") == "ingen"  # missing in sv: the default language's
    assert messages.label("sv", "severity", "high") == "hög"
    assert messages.label("sv", "track", "child") == "barn"  # empty msgstr: not translated, Danish
    assert messages.choice("sv", "severity", "high") == "high (hög)"


def test_bot_language_sv_replies_in_swedish_with_swedish_dates(swedish, svc):
    sv = dataclasses.replace(svc, settings=svc.settings.model_copy(update={"bot_language": "sv"}))
    assert language_problem(sv.settings) is None
    seed_admin(sv)
    reply = run(sv, ADMIN, SEVERITY_HIGH_CONCERN)
    assert reply.text.startswith("Registrerad som KE-2026-0001. Visiteringsfrist (48 h): 25 nov. 2026 10:00."), \
        reply.text
    assert run(sv, ADMIN, "").text.startswith("Skriv ett kommando")
    assert "Brug:" in run(sv, ADMIN, "case list later").text  # not translated: Danish


def test_a_language_without_a_catalog_is_refused_at_start_with_the_file_to_add(settings):
    finnish = settings.model_copy(update={"bot_language": "fi"})
    problem = language_problem(finnish)
    assert problem and "commands/locale/fi/LC_MESSAGES/koordinator.po" in problem and "da, en" in problem
    with pytest.raises(ValueError, match="BOT_LANGUAGE=fi"):
        build_services(finnish)


def test_bot_language_must_look_like_a_language_code(settings):
    assert Settings(database_url=settings.database_url, bot_language=" SV ").bot_language == "sv"
    with pytest.raises(ValidationError, match="language code"):
        Settings(database_url=settings.database_url, bot_language="swedish!")


def test_a_profile_may_name_an_added_language_but_not_one_without_a_catalog(swedish, svc):
    seed_admin(svc)
    text = shipped_text("copenhagen")
    assert "\nlanguage: da\n" in text
    finnish = submit(svc, ADMIN, "profile.import", {"yaml": text.replace("\nlanguage: da\n", "\nlanguage: fi\n")})
    assert finnish.errors and "`fi`" in finnish.errors["yaml"] and "da, en, sv" in finnish.errors["yaml"]
    swedish_profile = submit(svc, ADMIN, "profile.import",
                             {"yaml": text.replace("\nlanguage: da\n", "\nlanguage: sv\n")})
    assert swedish_profile.reply is not None and swedish_profile.reply.ok, swedish_profile
