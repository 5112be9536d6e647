"""GET /privacy and GET /terms: the pages the Teams app package links to, from docs/legal/, in Danish or English
(?lang=, else Accept-Language, else BOT_LANGUAGE), with the deployment's periods filled in."""

from __future__ import annotations

import dataclasses
import re

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from bot import pages
from bot.server import create_app
from commands.context import Services


@pytest.fixture
def client(svc: Services) -> TestClient:
    settings = svc.settings.model_copy(update={"retention_days": 365, "teams_details_ttl": 300})
    return TestClient(create_app(dataclasses.replace(svc, settings=settings)))


def test_privacy_and_terms_are_served_in_the_readers_language(client: TestClient) -> None:
    danish = client.get("/privacy", headers={"Accept-Language": "da-DK,da;q=0.9,en;q=0.8"})
    assert danish.status_code == 200 and danish.headers["content-type"].startswith("text/html")
    assert danish.headers["content-language"] == "da" and '<html lang="da">' in danish.text
    assert "Hvad der bliver i Microsoft 365" in danish.text
    assert "365 dage efter lukningen" in danish.text and "efter 5 minutter" in danish.text  # this deployment's
    english = client.get("/privacy?lang=en")
    assert "What stays in Microsoft 365" in english.text and "{RETENTION_DAYS}" not in english.text
    terms = client.get("/terms", headers={"Accept-Language": "en-GB;q=0.9,fr;q=1.0"})
    assert terms.headers["content-language"] == "en" and "<h1>koordinator — terms of use</h1>" in terms.text
    assert "<code>unit remove</code>" in terms.text


def test_the_language_choice() -> None:
    assert pages.language("EN", "da", "da") == "en"
    assert pages.language(None, "fr-FR, en;q=0.5, da;q=0.7", "en") == "da"
    assert pages.language(None, "fr", "da") == "da" and pages.language("xx", None, "sv") == "en"


def test_every_legal_text_exists_in_both_languages_and_escapes_markup(tmp_path, settings) -> None:  # noqa: ANN001
    for name in pages.PAGES:
        for lang in pages.LANGUAGES:
            assert (pages.LEGAL / f"{name}.{lang}.md").exists()
    (tmp_path / "privacy.en.md").write_text("# T <b>\n\nx <script>alert(1)</script> **y**\n", encoding="utf-8")
    html = pages.page("privacy", "en", settings, source=tmp_path)
    assert "<script>" not in html and "&lt;script&gt;" in html and "<strong>y</strong>" in html


@given(st.text(max_size=200))
def test_no_text_becomes_markup_of_its_own(text: str) -> None:
    _, body = pages.to_html(text)
    stripped = re.sub(r"</?(?:h[123]|p|ul|li|strong|code)>", "", body)
    assert "<" not in stripped and ">" not in stripped.replace("&gt;", "")
