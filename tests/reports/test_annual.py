"""`report annual` on the fixture year: the same suppressed figures in Markdown, CSV and PDF, charts that open,
no exported cell of 1–4, and the purpose footer on every page."""

from __future__ import annotations

import csv
import io
import re

import pytest
from PIL import Image
from pypdf import PdfReader
from yearkit import ADMIN, EXPECTED, Year

from commands.reply import Attachment, Invocation, Reply
from commands.router import dispatch

# Written before work procedures: its cases close without ticking checklist steps (or it counts reminders
# and agenda items that steps would add); procedures have their own tests (tests/profile/test_steps.py).
pytestmark = pytest.mark.procedures_off


@pytest.fixture
def year(svc, clock) -> Year:
    return Year(svc, clock).build()


def annual(year: Year, fmt: str) -> Reply:
    reply = dispatch(year.svc, Invocation(user_id=ADMIN, text=f"report annual year=2026 format={fmt}",
                                          platform="console"))
    assert reply.ok, reply.text
    return reply


def rows(reply: Reply) -> list[dict[str, str]]:
    [file] = reply.attachments
    assert file.data.startswith("\ufeff".encode())  # Excel reads UTF-8 by its byte order mark
    return list(csv.DictReader(io.StringIO(file.data.decode("utf-8-sig"))))


def cell(table: list[dict[str, str]], section: str, row: str, column: str) -> str:
    [found] = [r["value"] for r in table if r["section"] == section and r["row"] == row and r["column"] == column]
    return found


def test_the_csv_parses_and_says_what_the_fixture_year_holds(year: Year) -> None:
    table = rows(annual(year, "csv"))
    kpis = "Targets"
    assert cell(table, "Concerns received", "Concerns received", "2026") == "23"
    assert cell(table, "Concerns received", "Concerns received", "2025") == "<5"  # 1 in 2025
    assert cell(table, kpis, "Mentor/parent-coach offers accepted", "Share") == "66.7%"  # 6/9
    assert cell(table, kpis, "Mentor/parent-coach offers accepted", "Numerator") == "6"
    assert cell(table, kpis, "Mentor/parent-coach offers accepted", "Denominator") == "9"
    assert cell(table, kpis, "Mentor/parent-coach offers accepted", "Met") == "met"
    assert cell(table, kpis, "Visited within 24/48/72 hours", "Share") == "90.0%"  # 9/10
    assert cell(table, kpis, "Visited within 24/48/72 hours", "Met") == "not met"
    assert cell(table, kpis, "Completed mentor courses: not at risk 6 months after", "Share") == "80.0%"  # 4/5
    # Denominators under 5: no percentage, no verdict; the counts themselves are hidden.
    assert cell(table, kpis, "Declined offers re-offered within 6 months", "Share") == "–"  # 2/3
    assert cell(table, kpis, "Declined offers re-offered within 6 months", "Numerator") == "<5"
    assert cell(table, kpis, "Completed mentor courses: in education/employment at 12 months", "Share") == "–"  # 3/4
    assert cell(table, "Cases by track", "adult", "2026") == "14"
    assert cell(table, "Cases by track", "Total", "2026") == "23"
    assert cell(table, "Closures by reason", "completed", "2026") == "5"
    assert cell(table, "Closures by reason", "unfounded", "2026") == "13"
    assert cell(table, "Median days open per track (closed cases)", "child", "Median days open") == "98 days"
    assert cell(table, "Median days open per track (closed cases)", "adult", "Median days open") == "3 days"
    months = [cell(table, "Concerns per month", m, "2026") for m in
              ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December")]
    assert months == ["<5" if 0 < n < 5 else str(n) for n in EXPECTED["months"]]


def test_the_targets_table_holds_only_targets_and_last_years_shares(year: Year) -> None:
    """Last year's count of concerns once stood under the column "Share 2025" of the targets table."""
    table = rows(annual(year, "csv"))
    targets = [r for r in table if r["section"] == "Targets"]
    assert "Concerns received" not in {r["row"] for r in targets}
    assert all(r["value"].endswith("%") or r["value"] == "–" for r in targets if r["column"] == "Share 2025")
    assert cell(table, "Targets", "Mentor/parent-coach offers accepted", "Target") == "≥ 60%"


def test_small_districts_are_hidden_and_the_complementary_cell_too(year: Year) -> None:
    table = rows(annual(year, "csv"))
    section = "Cases by district"
    assert cell(table, section, "Østerbro", "2026") == "<5"  # 3 cases
    assert cell(table, section, "Valby", "2026") == "x"  # 8: else 23 − 12 − 8 would give Østerbro away
    assert cell(table, section, "Nørrebro", "2026") == "12"
    assert cell(table, section, "Total", "2026") == "23"
    # Tracks: adult_psych 1 and crime 1 hide each other badly (2 = 1 + 1): a third cell goes too.
    tracks = ("child", "adult", "adult with psychiatric problems", "crime")
    assert [cell(table, "Cases by track", t, "2026") for t in tracks] == ["x", "14", "<5", "<5"]


def test_no_exported_cell_holds_a_count_from_1_to_4(year: Year) -> None:
    for value in [r["value"] for r in rows(annual(year, "csv"))]:
        assert value not in {"1", "2", "3", "4"}, value
    md = annual(year, "md").attachments[0].data.decode("utf-8")
    for line in md.splitlines():
        if line.startswith("|"):
            for value in [c.strip() for c in line.strip("|").split("|")[1:]]:
                assert value not in {"1", "2", "3", "4"}, line
    # The PDF's table rows are the CSV's rows, cell for cell (so the PDF has no such cell either); a long label
    # wraps in its cell, so each row's values are looked for in the page text, in order.
    text = " ".join(pdf_text(annual(year, "pdf")).split())
    by_row: dict[tuple[str, str], list[str]] = {}
    for r in rows(annual(year, "csv")):
        if r["section"] not in ("note", "footer"):
            by_row.setdefault((r["section"], r["row"]), []).append(r["value"])
    for (_section, label), values in by_row.items():
        expected = " ".join(v for v in values if v)  # ≥ and – print as such
        assert expected in text and label.split()[0] in text, (label, expected)


def pdf_text(reply: Reply) -> str:
    [file] = reply.attachments
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(file.data)).pages)


def exported_texts(reply: Reply) -> list[str]:
    out = []
    for a in reply.attachments:
        if a.filename.endswith(".pdf"):
            out.append(pdf_text(Reply(text="", attachments=[a])))
        elif not a.filename.endswith(".png"):
            out.append(a.data.decode("utf-8"))
    return out


def test_md_csv_and_pdf_say_the_same(year: Year) -> None:
    csv_values = [r["value"] for r in rows(annual(year, "csv"))
                  if r["section"] not in ("note", "footer") and r["value"]]
    md = annual(year, "md")
    md_text = md.attachments[0].data.decode("utf-8")
    assert "&lt;" not in md_text  # `<5` reads as it is
    md_values = [c.strip() for line in md_text.splitlines()
                 if line.startswith("|") and not line.startswith("|--") and not line.startswith("|---")
                 for c in line.strip().strip("|").split("|")[1:]]
    header_free = [v for v in md_values if v]
    for value in csv_values:
        assert value in header_free
    pdf = annual(year, "pdf")
    [file] = pdf.attachments
    reader = PdfReader(io.BytesIO(file.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for needle in ("66.7%", "90.0%", "80.0%", "Cases by district", "Østerbro", "Nørrebro", "Median days open"):
        assert needle in text, needle


def test_the_pdf_opens_has_the_charts_and_the_footer_on_every_page(year: Year) -> None:
    [file] = annual(year, "pdf").attachments
    assert file.filename == "annual-report-2026.pdf" and file.data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(file.data))
    images = [image for page in reader.pages for image in page.images]
    assert len(images) == 3
    for number, page in enumerate(reader.pages, 1):
        assert "Administration of Justice Act" in page.extract_text().replace("\n", " ")
        assert f"Page {number} of {len(reader.pages)}" in page.extract_text()


def test_markdown_comes_with_three_charts_that_open(year: Year) -> None:
    reply = annual(year, "md")
    md, *pngs = reply.attachments
    assert md.filename == "annual-report-2026.md"
    text = md.data.decode("utf-8")
    # Each chart's name carries its picture's digest: a second export of other figures never links these files.
    assert sorted(re.sub(r"-[0-9a-f]{8}\.png$", ".png", p.filename) for p in pngs) == [
        "annual-report-2026-cases-by-track.png", "annual-report-2026-concerns-per-month.png",
        "annual-report-2026-targets.png"]
    for png in pngs:
        assert f"]({png.filename})" in text
        image = Image.open(io.BytesIO(png.data))
        assert image.format == "PNG" and image.width > 400


def test_the_report_holds_no_reference_or_pseudonym(year: Year) -> None:
    for fmt in ("md", "csv", "pdf"):
        for text in exported_texts(annual(year, fmt)):
            assert "KE-20" not in text
            for p in year.pseudonym.values():
                assert p not in text and f"{p[:4]}-{p[4:]}" not in text


def test_the_danish_report_is_danish_by_default(year: Year) -> None:
    svc = year.svc
    danish = svc.settings.model_copy(update={"bot_language": "da"})
    from commands.context import Services

    da = Services(settings=danish, engine=svc.engine, keys=svc.keys, clock=svc.clock)
    reply = dispatch(da, Invocation(user_id=ADMIN, text="report annual year=2026 format=csv", platform="console"))
    data = reply.attachments[0].data
    assert data.startswith("\ufeffafsnit;række;kolonne;værdi\r\n".encode())  # as Danish Excel opens it
    table = [{"section": r["afsnit"], "row": r["række"], "column": r["kolonne"], "value": r["værdi"]}
             for r in csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";")]
    assert cell(table, "Effektmål", "Tilbud om mentor/forældrecoach taget imod", "Andel") == "66,7 %"  # a space
    assert cell(table, "Effektmål", "Tilbud om mentor/forældrecoach taget imod", "Mål") == "≥ 60 %"
    assert cell(table, "Median antal dage åben pr. spor (afsluttede sager)", "barn", "Median dage åben") == "98 dage"
    md = dispatch(da, Invocation(user_id=ADMIN, text="report annual year=2026 format=md", platform="console"))
    assert "| 66,7\u00a0% |" in md.attachments[0].data.decode("utf-8")  # the document: timefmt's no-break space
    assert any("retsplejelovens § 115, stk. 2" in r["value"] for r in table if r["section"] == "fodnote")
    assert isinstance(reply.attachments[0], Attachment)
