"""The annual report as a finance committee receives it (issue 20): ≥ in the PDF, each table's legend beside the
table, Markdown that reads as plain text with its own charts, and a CSV whose cells never act as formulas."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re

import pytest
from pypdf import PdfReader
from sqlmodel import select
from yearkit import ADMIN, Year

from commands.reply import Invocation, Reply
from commands.router import dispatch
from storage.db import unit_of_work
from storage.fact_tables import ReportCase

pytestmark = pytest.mark.procedures_off  # a year of cases closed without ticking their steps


@pytest.fixture
def year(svc, clock) -> Year:
    return Year(svc, clock).build()


def annual(year: Year, fmt: str, lang: str = "da") -> Reply:
    svc = dataclasses.replace(year.svc, settings=year.svc.settings.model_copy(update={"bot_language": lang}))
    reply = dispatch(svc, Invocation(user_id=ADMIN, text=f"report annual year=2026 format={fmt}", platform="console"))
    assert reply.ok, reply.text
    return reply


def test_the_danish_pdf_writes_at_least_as_a_sign_and_puts_each_legend_beside_its_table(year: Year):
    [file] = annual(year, "pdf").attachments
    pages = [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(file.data)).pages]
    whole = " ".join(pages)
    assert "≥ 60 %" in whole and ">=" not in whole and "`" not in whole
    legend = "<5: 1–4 sager, skjult for at ingen kan genkendes."
    assert legend in pages[0]  # under the targets table on page 1, not only at the end
    assert sum(legend in page for page in pages) >= 3
    assert "x: skjult, så et skjult tal ikke kan regnes ud af totalen." in whole
    assert whole.index("Afventer: forløb") < whole.index("Bekymringshenvendelser pr. måned")


def test_the_markdown_is_plain_text_and_a_second_export_never_links_the_first_ones_charts(year: Year):
    first = annual(year, "md")
    text = first.attachments[0].data.decode("utf-8")
    assert "&lt;" not in text and "&gt;" not in text and "| <5 |" in text
    names = {a.filename for a in first.attachments[1:]}
    assert all(f"]({name})" in text for name in names)
    with unit_of_work(year.svc.engine) as session:  # other figures: one more concern in July
        fact = session.exec(select(ReportCase).where(ReportCase.received_on >= dt.date(2026, 6, 1))).first()
        assert fact is not None
        fact.received_on = fact.received_on.replace(month=7, day=15)
        session.add(fact)
    second = annual(year, "md")
    again = second.attachments[0].data.decode("utf-8")
    month_chart = [a.filename for a in second.attachments if "per-month" in a.filename]
    assert month_chart and month_chart[0] not in names and f"]({month_chart[0]})" in again
    assert re.search(r"\]\(aarsrapport-2026-concerns-per-month-[0-9a-f]{8}\.png\)", again)


def test_a_district_named_as_a_formula_is_text_in_the_csv(year: Year):
    with unit_of_work(year.svc.engine) as session:
        for fact in session.exec(select(ReportCase).where(ReportCase.district == "Valby")):
            fact.district = '=HYPERLINK("http://evil.example","klik")'
            session.add(fact)
    for lang, sep in (("da", ";"), ("en", ",")):
        data = annual(year, "csv", lang).attachments[0].data
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=sep))
        cells = [cell for row in rows for cell in row]
        assert "'=HYPERLINK(\"http://evil.example\",\"klik\")" in cells
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
