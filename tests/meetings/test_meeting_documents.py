"""The agenda and minutes files as a committee secretary prints them, read back with pypdf: headed tables in
the reader's words, the meeting's date written out in the title, `Side 1 af 3`, the purpose footer on every
page, and many cases with long pseudonym lists running over pages with the table heading repeated.

EXPORTS_DUMP=/some/dir writes the PDFs there, to look at the pages (`pdftoppm -png -r 60 file.pdf x`)."""

from __future__ import annotations

import dataclasses
import io
import os
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from commands.context import Services
from tests.meetings.mtkit import SERIES, local, ok, say, seed

# Written before work procedures: its cases close without ticking checklist steps (or it counts reminders
# and agenda items that steps would add); procedures have their own tests (tests/profile/test_steps.py).
pytestmark = pytest.mark.procedures_off

TRACKS = ("child", "adult", "adult_psych", "crime")
SEVERITIES = ("critical", "high", "normal")
AGES = ("0-14", "15-17", "18-24", "25+")
RAW_CODES = ("adult_psych", "critical", "qualifying", "child", "follow_up", "PSYCH", "POLICE")
FOOTER_DA = "retsplejelovens § 115, stk. 2"


def language(svc: Services, lang: str) -> Services:
    return dataclasses.replace(svc, settings=svc.settings.model_copy(update={"bot_language": lang}))


def pages(data: bytes, name: str) -> list[str]:
    if os.environ.get("EXPORTS_DUMP"):
        Path(os.environ["EXPORTS_DUMP"], name).write_bytes(data)
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


def season(svc: Services) -> list[str]:
    """Thirty-six new concerns before the meeting on Thursday 3 Dec 2026 (the series' first); every fourth
    has six subjects."""
    seed(svc)
    svc.clock.instant = local(2026, 11, 20, 10, 0)
    ok(svc, SERIES.format(policy="skip"))
    refs = []
    for n in range(36):
        svc.clock.instant = local(2026, 11, 23, 8, n)
        ages = ",".join(AGES[(n + k) % 4] for k in range(6 if n % 4 == 0 else 1))
        reply = ok(svc, f"concern new severity={SEVERITIES[n % 3]} track={TRACKS[n % 4]} age={ages} source=school "
                        'district=Valby basis=rpl115 summary="Udtaler støtte til voldelig ekstremisme"')
        refs.append(next(w.rstrip(".") for w in reply.text.split() if w.startswith("KE-")))
    for ref in refs[::5]:
        ok(svc, f"case qualify {ref} level=preventive")
    svc.clock.instant = local(2026, 11, 24, 12, 0)
    return refs


@pytest.fixture
def danish(svc: Services) -> tuple[Services, list[str]]:
    da = language(svc, "da")
    return da, season(da)


def test_the_danish_agenda_is_a_headed_table_per_section_in_danish_words(danish):
    da, refs = danish
    text = pages(ok(da, "agenda M-2026-001 format=pdf").attachments[0].data, "agenda-da.pdf")
    assert len(text) >= 3, "36 cases, every fourth with six pseudonyms, run over several pages"
    assert text[0].startswith("Dagsorden for mødet torsdag den 3. december 2026 kl. 9.00")
    assert "Koordineringsmøde M-2026-001 · 3. dec. 2026 kl. 09.00–10.30" in text[0]  # the typographic dash
    header = "Sag Pseudonymer Spor Alder Alvor Status Myndighed Dage åben Næste frist Derfor på dagsordenen"
    assert header in text[0]
    for number, page in enumerate(text, 1):
        assert f"Side {number} af {len(text)}" in page
        assert FOOTER_DA in page
    # The table runs over the pages with its heading repeated where it continues.
    assert all(header in page for page in text[1:-1])
    whole = " ".join(text)
    assert all(ref in whole for ref in refs)
    for word in ("voksen med psykiatriske problemer", "kriminalitet", "kritisk", "høj", "kvalificeres", "ny",
                 "15-17 år", "visitationsfrist", "til kvalificering", "Regionspsykiatrien"):
        assert word in whole, word
    for code in RAW_CODES:
        assert not re.search(rf"\b{code}\b", whole), code
    assert not re.search(r"\d{4}-\d\d-\d\d", whole), "no ISO date in the Danish agenda"


def test_a_case_with_six_pseudonyms_stays_on_one_page(danish):
    """fpdf2 never splits a table row over two pages: each case's pseudonyms all stand on its page."""
    da, refs = danish
    text = pages(ok(da, "agenda M-2026-001 format=pdf").attachments[0].data, "agenda-da.pdf")
    shown = ok(da, f"case show {refs[0]}")
    pseudonyms = [p for p in re.findall(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b",
                                    shown.text + " ".join(f.value for f in shown.fields)) if p not in refs[0]]
    assert len(set(pseudonyms)) == 6
    [page] = [p for p in text if refs[0] in p]
    assert all(p in page for p in pseudonyms)


def test_the_english_agenda_is_english(svc: Services):
    en = language(svc, "en")
    season(en)
    text = pages(ok(en, "agenda M-2026-001 format=pdf").attachments[0].data, "agenda-en.pdf")
    assert text[0].startswith("Agenda for the meeting on Thursday 3 December 2026 at 09:00")
    assert "Case Pseudonyms Track Age Severity State Authority Days open Next deadline Why on the agenda" in text[0]
    assert f"Page 1 of {len(text)}" in text[0] and f"Page {len(text)} of {len(text)}" in text[-1]
    whole = " ".join(text)
    assert "adult with psychiatric problems" in whole and "adult_psych" not in whole
    assert "Dagsorden" not in whole and "Side 1" not in whole


def test_the_danish_minutes_are_a_decisions_table_and_the_follow_ups_by_due_date(danish):
    da, refs = danish
    da.clock.instant = local(2026, 12, 3, 9, 30)
    ok(da, f'minutes {refs[1]} "Mentor tilbydes; skolen orienteres" due="2026-12-15 09:00"')
    ok(da, f'minutes {refs[0]} "Sagen lukkes ved næste møde, hvis intet nyt"')
    ok(da, f'minutes {refs[2]} "Politiet orienterer om status" due="2026-12-08 12:00"')
    closed = ok(da, "meeting close M-2026-001")
    [pdf] = [a for a in closed.attachments if a.filename.endswith(".pdf")]
    text = pages(pdf.data, "minutes-da.pdf")
    assert text[0].startswith("Referat af mødet torsdag den 3. december 2026 kl. 9.00")
    whole = " ".join(text)
    assert "Beslutninger (3)" in whole and "Sag Beslutning Opfølgning senest Opfølgning" in whole
    assert "Opfølgninger (2)" in whole
    follow = whole[whole.index("Opfølgninger (2)"):]
    assert follow.index("8. dec. 2026 kl. 12.00") < follow.index("15. dec. 2026 kl. 09.00")  # in due order
    assert re.search(r"F-\d+", follow)
    assert f"Side 1 af {len(text)}" in text[0] and FOOTER_DA in text[-1]
    assert not re.search(r"\d{4}-\d\d-\d\d", whole)
    late = say(da, f'minutes {refs[0]} "For sent" meeting=M-2026-001')
    assert not late.ok and "M-2026-001 er lukket." in late.text and "closed" not in late.text
