"""User text is inert in every document format (issue 26): hostile strings — mentions, channel pings, links,
HTML, formulas, newlines, RTL marks — in every free-text field of a document, written as Markdown (rendered by
GitHub's own renderer), CSV (read as a spreadsheet reads it) and PDF (read back with pypdf): nothing stays live."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from commands.documents import Document, Section, Table
from commands.documents.csvfile import csv_bytes
from commands.documents.escape import csv_cell, markdown_text, pdf_text
from commands.documents.markdown import markdown
from commands.documents.pdf import pdf

cmarkgfm = pytest.importorskip("cmarkgfm")  # GitHub's renderer (a test dependency)
from cmarkgfm.cmark import Options  # noqa: E402

HOSTILE = ["<!channel>", "<!here|here>", "<@U0123ABC>", "<@U1|bo>", "@channel", "*APPROVED*", "_x_", "**bold**",
           "`code`", "```", "http://evil.example", "https://evil.example/a_b?c=d", "www.evil.example",
           "evil@evil.example", "<http://evil.example>", "[klik](http://evil.example)", "![x](http://evil.example/p.png)",
           "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<a href='x'>a</a>", "<!-- c -->", "&lt;",
           "&#60;", "&amp;", "=HYPERLINK(\"http://evil.example\",\"klik\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1",
           "\r=1", "\n# Overskrift", "\n- punkt", "\n> citat", "\n1. liste", "| a | b |", "\u202eevil\u202c",
           "\u200f", "\u2066x\u2069", "\u200b", "\ufeff", "line\nbreak", "\\", "<5", "≥ 60 %", "æøå", "a|b"]
ALLOWED_TAGS = {"p", "h1", "h2", "h3", "table", "thead", "tbody", "tr", "th", "td", "ul", "li", "em", "hr", "br"}
BIDI = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

hostile = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12)), min_size=1, max_size=4).map("".join)


def render(md: str) -> str:
    return cmarkgfm.github_flavored_markdown_to_html(md, options=Options.CMARK_OPT_UNSAFE)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [tag] + [f"{tag}[{name}]" for name, _ in attrs]

    def handle_comment(self, data: str) -> None:
        self.found.append("comment")


def live(html: str) -> list[str]:
    """What a Markdown viewer would act on: a tag other than the writer's own (a link, an image, a script), an
    attribute, an HTML comment."""
    parser = _Tags()
    parser.feed(html)
    return sorted(t for t in parser.found if t not in ALLOWED_TAGS)


def document(text: str) -> Document:
    """Every free-text field of the model holds the hostile text."""
    return Document(text, text, [text], lang="da", sections=[
        Section(text, [text, text], paragraphs=[text], notes=[text]),
        Section(text, table=Table([text, text], [[text, text]], legend=[text])),
        Section(text, empty=text, level=3)], notes=[text], empty=text)


@settings(max_examples=300, deadline=None)
@given(hostile)
def test_markdown_text_renders_as_the_text_and_nothing_acts(text: str):
    html = render(markdown_text(text))
    assert live(html) == [], (text, html)
    assert not BIDI.search(html)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile)
def test_a_markdown_document_with_hostile_text_everywhere_has_nothing_live(text: str):
    html = render(markdown(document(text)).decode("utf-8"))
    assert live(html) == [], (text, html)
    assert not BIDI.search(html)


@settings(max_examples=300, deadline=None)
@given(hostile)
def test_no_csv_cell_starts_a_formula(text: str):
    cell = csv_cell(text)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) and not BIDI.search(cell)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile)
def test_a_csv_document_read_back_has_no_formula_cell(text: str):
    for sep in (";", ","):
        doc = document(text)
        doc.lang = "da" if sep == ";" else "en"
        for row in csv.reader(io.StringIO(csv_bytes(doc).decode("utf-8-sig")), delimiter=sep):
            assert len(row) == 4
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (text, row)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile)
def test_a_pdf_with_hostile_text_everywhere_prints_no_markdown_and_no_hidden_marks(text: str):
    data = pdf(document(text))
    shown = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "`" not in shown and "**" not in shown and not BIDI.search(shown)
    assert b"/URI" not in data and b"/Link" not in data  # no link annotation from user text


def test_the_examples_stay_readable():
    assert markdown_text("<5") == "<5"
    assert markdown_text("<script>x</script>") == "\\<script>x\\</script>"
    assert markdown_text("snake_case") == "snake_case"
    assert markdown_text("23. nov. 2026: mødet") == "23.\u00a0nov. 2026: mødet"  # not a numbered list, same look
    assert csv_cell("=HYPERLINK(\"http://evil.example\")") == "'=HYPERLINK(\"http://evil.example\")"
    assert csv_cell("66,7\u00a0%") == "66,7 %"
    assert pdf_text("`meeting close M-1` **nu** >= 60 % <= 5") == "meeting close M-1 nu ≥ 60 % ≤ 5"
