"""The PDF writer (fpdf2): A4, the purpose footer and `Side 1 af 3` on every page, headings kept with what
follows them, tables whose heading row repeats on each page they run onto and whose legend stands right
beneath them. The font is DejaVu Sans (shipped with matplotlib, which the charts need anyway): æøå, ≥, ≤, –,
→ and • print as such."""

from __future__ import annotations

import importlib.util
import io
import math
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from commands.documents.escape import pdf_text
from commands.documents.model import Document, Section, Table

if TYPE_CHECKING:
    from fpdf import FPDF

FONT = "DejaVu"
_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
LINE = 4.4


@cache
def font_dir() -> Path:
    spec = importlib.util.find_spec("matplotlib")
    places = [Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"] if spec and spec.origin else []
    places.append(Path("/usr/share/fonts/truetype/dejavu"))
    for place in places:
        if all((place / name).is_file() for name in _FILES.values()):
            return place
    raise RuntimeError("DejaVu Sans not found (it comes with matplotlib)")


@cache
def _pdf_class() -> type[FPDF]:
    """fpdf2 (with its font and image libraries) costs some 35 MB in every process that imports it: it is loaded
    when the first PDF is made, not by every server and work process."""
    from fpdf import FPDF

    class _Pdf(FPDF):
        def __init__(self, footer: str, pages: str, landscape: bool) -> None:
            super().__init__(orientation="landscape" if landscape else "portrait", unit="mm", format="A4")
            for style, name in _FILES.items():
                self.add_font(FONT, style, str(font_dir() / name))
            self._footer_text = pdf_text(footer, one_line=True)
            self._pages = pages
            self.set_font(FONT, "I", 7)
            lines = math.ceil(self.get_string_width(self._footer_text) / (self.epw * 0.95))
            self._footer_height = 3.2 * (lines + 1) + 6
            self.set_auto_page_break(auto=True, margin=self._footer_height + 4)

        def footer(self) -> None:  # fpdf2 calls this on every page
            self.set_y(-self._footer_height)
            self.set_font(FONT, "I", 7)
            self.multi_cell(0, 3.2, self._footer_text, align="C", new_x="LMARGIN", new_y="NEXT")
            self.set_font(FONT, "", 7)
            # fpdf2 writes the page count where its alias stands, once the last page is known
            self.cell(0, 3.2, self._pages.replace("{page}", str(self.page_no())).replace("{pages}", "{nb}"),
                      align="C")

    return _Pdf


def _text(out: FPDF, text: str, size: float, style: str = "", height: float = LINE) -> None:
    """One paragraph or list item: a plain cell when it fits on a line (fpdf2's line breaking costs some 2 ms a
    call with an embedded font), else wrapped."""
    out.set_font(FONT, style, size)
    shown = pdf_text(text)
    if "\n" not in shown and out.get_string_width(shown) <= out.epw - 2 * out.c_margin:
        out.cell(0, height, shown, new_x="LMARGIN", new_y="NEXT")
    else:
        out.multi_cell(0, height, shown, align="L", new_x="LMARGIN", new_y="NEXT")


def _heading(out: FPDF, text: str, level: int, room: float) -> None:
    """A section heading, on the next page when fewer than `room` mm are left (no heading alone at a page's foot)."""
    out.ln(3 if level <= 2 else 1.5)
    if out.will_page_break(6 + room):
        out.add_page()
    _text(out, text, 11.5 if level <= 2 else 9.5, "B", 6 if level <= 2 else 5)


def _table(out: FPDF, table: Table) -> None:
    from fpdf.fonts import FontFace

    out.set_font(FONT, "", 8)
    shares = table.widths or tuple(1.0 for _ in table.header)
    align = list(table.align or ("LEFT",) * len(table.header))
    with out.table(col_widths=[round(w * 1000) for w in shares], width=out.epw, line_height=4.2,
                   headings_style=FontFace(emphasis="BOLD", fill_color=(226, 232, 240)),
                   text_align=align, first_row_as_headings=True, repeat_headings=1,
                   padding=(0.8, 1.2)) as grid:
        for row in [table.header, *table.rows]:
            cells = grid.row()
            for value in row:
                cells.cell(pdf_text(value))
    if table.legend:
        out.ln(1)
        for line in table.legend:
            _text(out, line, 7.5, "I", 3.8)


def _room(section: Section) -> float:
    if section.has_table:
        assert section.table is not None
        return 5 * min(len(section.table.rows) + 1, 4)
    return 10 if section.charts else 5 * min(len(section.lines) + len(section.paragraphs), 3) + 5


def _section(out: FPDF, section: Section, empty: str) -> None:
    if section.heading:
        _heading(out, section.heading, section.level, _room(section))
    for paragraph in section.paragraphs:
        _text(out, paragraph, 9.5, height=4.8)
        out.ln(1.2)
    if section.has_table:
        assert section.table is not None
        out.ln(0.5)
        _table(out, section.table)
    elif section.lines:
        for line in section.lines:
            _text(out, f"•  {line}", 8.5)
    elif not section.paragraphs and not section.charts:
        _text(out, section.empty or empty, 8.5, "I")
    for chart in section.charts:
        out.ln(2)
        if out.will_page_break(85):
            out.add_page()
        out.image(io.BytesIO(chart.png), w=out.epw * 0.9, title=chart.title)
    for note in section.notes:
        _text(out, note, 7.5, "I", 3.8)


def pdf(doc: Document, *, compress: bool = True) -> bytes:
    out = _pdf_class()(doc.footer, doc.pages, doc.landscape)  # type: ignore[call-arg]
    out.set_compression(compress)
    title = pdf_text(doc.heading or doc.title, one_line=True)
    out.set_title(title)
    out.set_creator("koordinator")
    out.add_page()
    _text(out, title, 14, "B", 7)
    for line in doc.meta:
        _text(out, line, 9, height=4.6)
    out.ln(2)
    for section in doc.parts():
        _section(out, section, doc.nothing())
    if doc.notes:
        out.ln(3)
        for note in doc.notes:
            _text(out, note, 7.5, "I", 3.8)
    return bytes(out.output())
