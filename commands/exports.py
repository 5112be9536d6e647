"""Archive exports (agenda, minutes) as Markdown and PDF, each with the purpose-limitation footer (SPEC.md §6).

A use case describes the document once (title, lines, sections); this module writes both formats from it,
so the two exports never say different things. PDF via fpdf2 with its built-in Helvetica (Latin-1): the
few typographic characters outside Latin-1 are replaced, Danish letters are kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from commands.messages import t
from commands.reply import Attachment
from storage.profile import Profile

if TYPE_CHECKING:
    from fpdf import FPDF

_LATIN1_FIXES = str.maketrans({"—": "-", "–": "-", "…": "...", "→": "->", "✓": "v", "“": '"', "”": '"',
                               "„": '"', "‘": "'", "’": "'", "⏸": "||", "•": "-", "≤": "<=", "≥": ">="})


@dataclass
class Table:
    """A headed table, as a committee reads it on paper: `widths` are the columns' shares of the page."""

    header: list[str]
    rows: list[list[str]]
    widths: tuple[float, ...] = ()


@dataclass
class Section:
    """A heading and its lines (chat shows the lines); the files show `table` instead where there is one."""

    heading: str
    lines: list[str]
    table: Table | None = None

    def __iter__(self) -> Iterator[Any]:  # `for heading, lines in doc.sections` reads a Section as a pair
        return iter((self.heading, self.lines))


@dataclass
class Document:
    title: str
    footer: str
    meta: list[str] = field(default_factory=list)
    sections: list[Section | tuple[str, list[str]]] = field(default_factory=list)
    heading: str = ""  # the files' title, when it differs from the chat title (the date written out)
    pages: str = "{page}"  # the page number as the language writes it: `Side {page} af {pages}`
    landscape: bool = False


def _sections(doc: Document) -> list[Section]:
    return [s if isinstance(s, Section) else Section(*s) for s in doc.sections]


def footer_text(lang: str, profile: Profile | None = None) -> str:
    """The purpose-limitation footer: the unit profile's legal bases' footer texts, else the catalog's."""
    return (profile.footer(lang) if profile is not None else None) or t(lang, "export.footer")


def page_text(lang: str) -> str:
    return t(lang, "export.page")


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or " "


def markdown(doc: Document) -> bytes:
    out = [f"# {doc.heading or doc.title}", ""]
    out += [f"{line}  " for line in doc.meta]
    for section in _sections(doc):
        out += ["", f"## {section.heading}", ""]
        if section.table is not None and section.table.rows:
            out += ["| " + " | ".join(_md_cell(h) for h in section.table.header) + " |",
                    "|" + "|".join("---" for _ in section.table.header) + "|"]
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in section.table.rows]
        else:
            out += [f"- {row}" for row in section.lines] or ["- —"]
    out += ["", "---", "", f"*{doc.footer}*", ""]
    return "\n".join(out).encode("utf-8")


def latin1(text: str) -> str:
    return text.translate(_LATIN1_FIXES).encode("latin-1", "replace").decode("latin-1")


@cache
def _pdf_class() -> type[FPDF]:
    """fpdf2 (with its font and image libraries) costs some 35 MB in every process that imports it: it is loaded
    when the first PDF is made, not by every server and work process."""
    from fpdf import FPDF

    class _Pdf(FPDF):
        def __init__(self, footer: str, pages: str, landscape: bool) -> None:
            super().__init__(orientation="landscape" if landscape else "portrait", unit="mm", format="A4")
            self._footer_text = latin1(footer)
            self._pages = latin1(pages)

        def footer(self) -> None:  # fpdf2 calls this on every page
            self.set_y(-16)
            self.set_font("Helvetica", "I", 7)
            self.multi_cell(0, 3.2, self._footer_text, align="C", new_x="LMARGIN", new_y="NEXT")
            self.set_font("Helvetica", "", 7)
            # fpdf2 writes the page count where its alias stands, once the last page is known
            self.cell(0, 3.2, self._pages.replace("{page}", str(self.page_no())).replace("{pages}", "{nb}"),
                      align="C")

    return _Pdf


def _line(out: FPDF, text: str) -> None:
    """One row: a plain cell when it fits (about 25× faster than fpdf2's line breaking), else wrapped."""
    if out.get_string_width(text) <= out.epw:
        out.cell(0, 4.2, text, new_x="LMARGIN", new_y="NEXT")
    else:
        out.multi_cell(0, 4.2, text, new_x="LMARGIN", new_y="NEXT")


def start_pdf(title: str, footer: str, meta: list[str], *, compress: bool = True, pages: str = "{page}",
              landscape: bool = False) -> FPDF:
    """An A4 document with the purpose footer and page number on every page, its title and meta lines begun."""
    out = _pdf_class()(footer, pages, landscape)  # type: ignore[call-arg]
    out.set_compression(compress)
    out.set_title(latin1(title))
    out.set_creator("koordinator")
    out.set_auto_page_break(auto=True, margin=22)
    out.add_page()
    out.set_font("Helvetica", "B", 14)
    out.multi_cell(0, 7, latin1(title), new_x="LMARGIN", new_y="NEXT")
    out.set_font("Helvetica", "", 9)
    for line in meta:
        out.multi_cell(0, 4.5, latin1(line), new_x="LMARGIN", new_y="NEXT")
    return out


def table(out: FPDF, header: list[str], rows: list[list[str]], widths: tuple[float, ...] = (),
          align: list[str] | None = None) -> None:
    """A headed table with fpdf2's `table()`: cells wrap, rows never split across pages, and the heading row
    is repeated on every page the table runs onto."""
    from fpdf.fonts import FontFace

    shares = widths or tuple(1.0 for _ in header)
    with out.table(col_widths=[round(w * 1000) for w in shares], width=out.epw, line_height=4.2,
                   headings_style=FontFace(emphasis="BOLD", fill_color=(226, 232, 240)),
                   text_align=align or ["LEFT"] * len(header), first_row_as_headings=True,
                   repeat_headings=1, padding=(0.8, 1.2)) as grid:
        for row in [header, *rows]:
            cells = grid.row()
            for value in row:
                cells.cell(latin1(value))


def heading(out: FPDF, text: str, room: float = 18) -> None:
    """A section heading, on the next page when fewer than `room` mm are left (no heading alone at a page's foot)."""
    out.ln(3)
    if out.will_page_break(6 + room):
        out.add_page()
    out.set_font("Helvetica", "B", 11)
    out.multi_cell(0, 6, latin1(text), new_x="LMARGIN", new_y="NEXT")


def pdf(doc: Document, *, compress: bool = True) -> bytes:
    out = start_pdf(doc.heading or doc.title, doc.footer, doc.meta, compress=compress, pages=doc.pages,
                    landscape=doc.landscape)
    for section in _sections(doc):
        heading(out, section.heading)
        out.set_font("Helvetica", "", 8)
        if section.table is not None and section.table.rows:
            out.ln(1)
            table(out, section.table.header, section.table.rows, section.table.widths)
        else:
            for row in section.lines or ["-"]:
                _line(out, latin1(f"- {row}"))
    return bytes(out.output())


def attachments(doc: Document, stem: str, again: str = "") -> list[Attachment]:
    """`stem` names the file by meeting id only: nothing about a case goes into a file name. `again` is the
    command that shows the document privately; with `format=` it gives each file again."""
    return [Attachment(f"{stem}.md", "text/markdown", markdown(doc), f"{again} format=md" if again else ""),
            Attachment(f"{stem}.pdf", "application/pdf", pdf(doc), f"{again} format=pdf" if again else "")]
