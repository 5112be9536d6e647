"""The one document model's writers, format by format: Markdown that renders as what the document says, a PDF
read back with pypdf, CSV as Danish Excel (BOM, `;`, decimal comma) and English Excel (`,`) open it."""

from __future__ import annotations

import csv
import io

from pypdf import PdfReader

from commands import documents
from commands.documents import Chart, Document, Section, Table
from commands.documents.csvfile import csv_bytes
from commands.documents.markdown import markdown
from commands.documents.pdf import pdf


def sample(lang: str = "da") -> Document:
    share = "66,7\u00a0%" if lang == "da" else "66.7%"
    return Document(
        "Dagsorden M-2026-001", "Oplysningerne udveksles alene til brug for … (retsplejelovens § 115, stk. 2).",
        ["Koordineringsmøde · 3. dec. 2026"], lang=lang, pages="Side {page} af {pages}", empty="Intet at vise.",
        sections=[
            Section("1. Punkter", [f"Punkt {n} — æøå" for n in range(90)]),  # runs onto page 2
            Section("2. Tal", table=Table(["", "2026"], [["Andel", share], ["Sager", "<5"], ["Mål", "≥ 60 %"]],
                                          align=("LEFT", "RIGHT"), legend=["<5: 1–4 sager, skjult."])),
            Section("3. Tomt afsnit", empty="Ingen sager."),
            Section("4. Tekst", paragraphs=["Brug `meeting close M-2026-001` **nu**, hvis andelen er >= 60 %."]),
        ])


def test_markdown_is_plain_readable_text_with_the_legend_under_its_table():
    text = markdown(sample()).decode("utf-8")
    assert text.startswith("# Dagsorden M-2026-001\n")
    assert "| Sager | <5 |" in text and "&lt;" not in text  # `<5` reads as it is
    table_end = text.index("| Mål | ≥ 60 % |")
    assert text.index("*<5: 1–4 sager, skjult.*") > table_end
    assert text.index("*<5: 1–4 sager, skjult.*") < text.index("## 3. Tomt afsnit")
    assert "## 3. Tomt afsnit\n\nIngen sager.\n" in text
    assert "`" not in text and "**" not in text.replace("\\*\\*", "")  # no command markup in a document
    assert text.rstrip().endswith("*Oplysningerne udveksles alene til brug for … (retsplejelovens § 115, stk. 2).*")


def test_markdown_links_its_own_charts():
    doc = Document("Rapport", "Fod", sections=[Section("Figurer", charts=[Chart("rapport-a1b2c3d4.png", "Tal",
                                                                                 b"\x89PNG")])])
    files = documents.attachments(doc, "rapport", formats=("md",))
    assert [f.filename for f in files] == ["rapport.md", "rapport-a1b2c3d4.png"]
    assert "![Tal](rapport-a1b2c3d4.png)" in files[0].data.decode()


def pages(data: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


def test_the_pdf_prints_no_markdown_and_its_legend_where_the_table_is():
    text = pages(pdf(sample()))
    assert len(text) >= 2
    [table_page] = [n for n, page in enumerate(text) if "Sager <5" in page]
    assert "<5: 1–4 sager, skjult." in text[table_page]  # beside its table, not only on the last page
    whole = " ".join(text)
    assert "Brug meeting close M-2026-001 nu, hvis andelen er ≥ 60 %." in whole
    assert "`" not in whole and "**" not in whole and ">=" not in whole
    assert "3. Tomt afsnit Ingen sager." in whole and "- -" not in whole
    for number, page in enumerate(text, 1):
        assert f"Side {number} af {len(text)}" in page and "retsplejelovens § 115, stk. 2" in page


def test_danish_csv_opens_in_danish_excel():
    data = csv_bytes(sample("da"))
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 byte order mark: Excel reads æøå
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0] == "afsnit;række;kolonne;værdi"
    cells = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert ["2. Tal", "Andel", "2026", "66,7 %"] in cells  # decimal comma, one cell; a plain space
    assert all(len(row) == 4 for row in cells)
    assert ["forklaring", "", "", "<5: 1–4 sager, skjult."] in cells
    assert cells[-1][0] == "fodnote" and "§ 115" in cells[-1][3]


def test_english_csv_stays_comma_separated_with_english_headers():
    text = csv_bytes(sample("en")).decode("utf-8-sig")
    assert text.splitlines()[0] == "section,row,column,value"
    cells = list(csv.reader(io.StringIO(text)))
    assert ["2. Tal", "Andel", "2026", "66.7%"] in cells and cells[-1][0] == "footer"


def test_an_empty_document_section_says_so_in_every_format():
    doc = Document("Referat", "Fod", sections=[Section("Beslutninger (0)", empty="Ingen beslutninger.")], lang="da")
    assert "## Beslutninger (0)\n\nIngen beslutninger.\n" in markdown(doc).decode()
    assert "Beslutninger (0) Ingen beslutninger." in " ".join(pages(pdf(doc)))
    assert "- -" not in " ".join(pages(pdf(doc)))
