"""The subject access export is a letter to a citizen (issue 20): in Danish or the requester's language, every
category in words, who received the data and on what legal basis, how long it is kept, the person's rights, and
the § 115 purpose footer beside the GDPR art. 15 text. Read back from the PDF with pypdf."""

from __future__ import annotations

import dataclasses
import io
import re

import pytest
from pypdf import PdfReader
from retkit import ADMIN, MENTOR, PERSON_X, PERSON_Y, rich_case, seed
from test_subjects import submit

from commands.context import Services
from commands.reply import Invocation
from commands.router import dispatch

# What the export read before: codes, Python literals, platform ids, the audit log's raw lines.
pytestmark = pytest.mark.procedures_off  # closes its cases without ticking their steps


CODES = ["referred", "critical", "police", "school", "preventive", "completed", "linked", "True", "False", "None",
         "<@", "U_SEC", "U_ADMIN", "case.create", "case.view", "access.denied", "refused", "Lukkeårsag", "— (—)",
         "mentor · accepted", "`", "**"]
# In English several codes are English words ("referred", "school"); these never are.
CODES_EN = ["linked", "True", "False", "<@", "U_SEC", "U_ADMIN", "case.create", "case.view", "access.denied",
            "— (—)", "mentor · accepted", "`", "**", "follow_up", "adult_psych", "normal_system"]


def danish(svc: Services) -> Services:
    return dataclasses.replace(svc, settings=svc.settings.model_copy(update={"bot_language": "da"}))


def letter(svc: Services, identifier: str, lang: str = "") -> tuple[str, str]:
    values = {"identifier": identifier, "purpose": "Indsigtsanmodning j.nr. 7"}
    if lang:
        values["language"] = lang
    result = submit(svc, "subject.export", values)
    assert result.reply is not None and result.reply.ok, result
    md, pdf = result.reply.attachments
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf.data)).pages)
    return md.data.decode("utf-8"), text


def prepared(svc: Services, clock) -> object:  # noqa: ANN001
    seed(svc)
    r = rich_case(svc, clock)
    dispatch(svc, Invocation(user_id=MENTOR, text=f"case show {r.other}", platform="console"))  # refused: audited
    assert dispatch(svc, Invocation(user_id=ADMIN, text=f"case checked {r.other} org=POLICE found=no",
                                    platform="console")).ok
    return r


def test_the_danish_letter_reads_as_a_letter_in_words(svc, clock):
    da = danish(svc)
    r = prepared(da, clock)
    md, text = letter(da, PERSON_X)
    for code in CODES:
        assert code not in text, code
    assert not re.search(r"\b[a-z_]+=\S", text), "no key=value debris"
    for words in ("Svar på din anmodning om indsigt", "databeskyttelsesforordningens artikel 15",
                  "Hvorfor vi behandler oplysningerne", "Retsplejelovens § 115",
                  f"Sag {r.ref}", "Sagens status Lukket", "Hvorfra bekymringen kom Skole",
                  "Bekymringens alvor Høj", "Sagen afsluttet 23. nov. 2026: gennemført",
                  "1 anden person", "Visiteret (til: Socialforvaltningen)",
                  "Sagens status ændret fra ny til kvalificeres",
                  "ændret fra opfølgning til lukket (årsag: gennemført)",
                  "Hvem har fået oplysningerne (modtagere)",
                  "Socialforvaltningen 23. nov. 2026 Sagen blev visiteret (overdraget) til myndigheden",
                  "Politiet 23. nov. 2026 Oplysninger til at undersøge, om myndigheden kender dig i sine registre",
                  "administrator, Sekretariatet — oprettede sagen",
                  "mentor, Anden myndighed — forsøgte at åbne sagen (adgang nægtet)",
                  "Hvor længe vi gemmer oplysningerne", "En sag slettes 2 år efter", "slettes 22. nov. 2028",
                  "Dine rettigheder", "rette dem", "slette oplysningerne", "klage til Datatilsynet",
                  "Med venlig hilsen"):
        assert words in text, words
    # The § 115 purpose footer beside the art. 15 text, on every page.
    pages = PdfReader(io.BytesIO(submit(da, "subject.export", {"identifier": PERSON_X, "purpose": "x"})
                                 .reply.attachments[1].data)).pages
    for page in pages:
        flat = " ".join(page.extract_text().split())
        assert "retsplejelovens § 115, stk. 2" in flat and "databeskyttelsesforordningens artikel 15." in flat
    assert "other\\_summary" not in md and "<@" not in md
    # The authority's addresses in the Markdown letter are copyable as written (the bot's own text, not user text).
    assert "dt@datatilsynet.dk, www.datatilsynet.dk" in md


def test_the_letter_goes_out_in_the_requesters_language(svc, clock):
    da = danish(svc)
    r = prepared(da, clock)
    _md, text = letter(da, PERSON_Y, lang="en")
    assert not re.search(r"\b[a-z_]+=\S", text), "no key=value debris"
    for code in CODES_EN:
        assert code not in text, code
    for words in ("Reply to your request for access to your personal data", "Article 15",
                  "Why we process the data", "Who has received the data (recipients)",
                  "The case was referred to the authority", "Your rights", "Danish Data Protection Agency",
                  "Yours sincerely", f"Case {r.ref}", "Administration of Justice Act §115(2)"):
        assert words in text, words
    assert "Svar på din anmodning" not in text and "Dine rettigheder" not in text
    assert r.other not in text  # Y is only in case A


def test_a_case_without_recipients_says_so(svc, clock):
    seed(svc)
    r = rich_case(svc, clock)
    _md, text = letter(svc, PERSON_X)
    section = text[text.index(f"Case {r.other}"):]
    assert "The data have only been used within the unit and have not been passed on to any other authority." \
        in section
