"""The annual report as PDF: headed tables, the charts, the notes, the purpose footer on every page."""

from __future__ import annotations

import io

from fpdf.fonts import FontFace

from commands.exports import latin1, start_pdf
from commands.reports.documents import Shown

_HEAD = FontFace(emphasis="BOLD", fill_color=(226, 232, 240))


def pdf(doc: Shown) -> bytes:
    out = start_pdf(doc.title, doc.footer, [doc.meta], pages=doc.pages)
    for section in doc.sections:
        out.ln(3)
        if out.will_page_break(6 + 5 * min(len(section.rows) + 1, 6)):
            out.add_page()
        out.set_font("Helvetica", "B", 11)
        out.multi_cell(0, 6, latin1(section.title), new_x="LMARGIN", new_y="NEXT")
        out.set_font("Helvetica", "", 8)
        first = 0.46 if len(section.header) > 4 else 0.5
        rest = (1 - first) / max(len(section.header) - 1, 1)
        widths = [first] + [rest] * (len(section.header) - 1)
        with out.table(col_widths=[round(w * 1000) for w in widths], headings_style=_HEAD, line_height=4.4,
                       text_align=["LEFT"] + ["RIGHT"] * (len(section.header) - 1), first_row_as_headings=True,
                       width=out.epw) as table:
            for row in [section.header, *section.rows]:
                cells = table.row()
                for value in row:
                    cells.cell(latin1(value))
    for name, _title, png in doc.charts:
        out.ln(3)
        if out.will_page_break(85):
            out.add_page()
        out.image(io.BytesIO(png), w=out.epw * 0.9, title=name)
    out.ln(3)
    out.set_font("Helvetica", "I", 7.5)
    for note in doc.notes:
        out.multi_cell(0, 3.8, latin1(note.replace("`", "")), new_x="LMARGIN", new_y="NEXT")
    return bytes(out.output())
