"""User text typed into the product stays inert in the files it makes (issue 26): a meeting series' name, a
decision, a case's summary and note, through the real commands into the agenda, the minutes and the subject
access letter — Markdown rendered by GitHub's renderer acts on nothing, the PDF prints no Markdown syntax."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from commands.context import Services
from commands.reply import Invocation, Reply
from commands.router import submit_form
from tests.commands.test_document_escaping import BIDI, live, render
from tests.meetings.mtkit import local, ok, seed
from tests.meetings.test_meeting_documents import language

HOSTILE = ("<!channel> <@U0123ABC> *APPROVED* http://evil.example [klik](http://evil.example) "
           "<script>alert(1)</script> <img src=x onerror=alert(1)> =HYPERLINK(1) \u202eevil\u202c `kode` **fed**")


def files(reply: Reply) -> tuple[str, str]:
    [md] = [a for a in reply.attachments if a.filename.endswith(".md")]
    [pdf] = [a for a in reply.attachments if a.filename.endswith(".pdf")]
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    return md.data.decode("utf-8"), text


def inert(reply: Reply) -> None:
    md, pdf = files(reply)
    html = render(md)
    assert live(html) == [] and not BIDI.search(html), html
    assert "`" not in pdf and "**" not in pdf and not BIDI.search(pdf)
    assert "<!channel>" in " ".join(pdf.split())  # the text itself is kept, as words


@pytest.mark.parametrize("lang", ["da", "en"])
def test_hostile_text_in_the_agenda_minutes_and_letter_stays_inert(svc: Services, lang: str):
    pytest.importorskip("cmarkgfm")
    unit = language(svc, lang)
    seed(unit)
    unit.clock.instant = local(2026, 11, 20, 10, 0)
    name = "<!channel> <@U0123ABC> *APPROVED* http://evil.example <script>x</script> =1+1 \u202eevil\u202c `k`"
    ok(unit, f'meeting series add name="{name}" rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH" time=09:00 duration=90m '
             "holidays=skip")
    values = {"severity": "high", "track": "child", "source": "school", "district": "Valby", "basis": "rpl115",
              "summary": HOSTILE, "subject1_age": "15-17", "subject1_identifier": "150509-4123"}
    result = submit_form(unit, Invocation(user_id="ADMIN", text="", platform="console"), "concern.intake", values)
    assert result.reply is not None and result.reply.ok, result
    ref = next(w.rstrip(".") for w in result.reply.text.split() if w.startswith("KE-"))
    ok(unit, f'case note {ref} "{HOSTILE}"')
    inert(_both(unit, "agenda M-2026-001"))
    unit.clock.instant = local(2026, 12, 3, 9, 30)
    ok(unit, f'minutes {ref} "{HOSTILE}"')
    inert(ok(unit, "meeting close M-2026-001"))
    letter = submit_form(unit, Invocation(user_id="ADMIN", text="", platform="console"), "subject.export",
                         {"identifier": "150509-4123", "purpose": "Indsigt"})
    assert letter.reply is not None and letter.reply.ok, letter
    inert(letter.reply)


def _both(unit: Services, command: str) -> Reply:
    md = ok(unit, f"{command} format=md").attachments
    pdf = ok(unit, f"{command} format=pdf").attachments
    return Reply(text="", attachments=[*md, *pdf])
