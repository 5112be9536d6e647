"""Archive exports (agenda, minutes) as Markdown and PDF, each with the purpose-limitation footer (SPEC.md §6).

A use case describes the document once (title, lines, sections); this module writes both formats from it,
so the two exports never say different things. PDF via fpdf2 with its built-in Helvetica (Latin-1): the
few typographic characters outside Latin-1 are replaced, Danish letters are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from commands.messages import t
from commands.reply import Attachment
from storage.profile import Profile

if TYPE_CHECKING:
    from fpdf import FPDF

_LATIN1_FIXES = str.maketrans({"—": "-", "–": "-", "…": "...", "→": "->", "✓": "v", "“": '"', "”": '"',
                               "„": '"', "‘": "'", "’": "'", "⏸": "||", "•": "-", "≤": "<=", "≥": ">="})


@dataclass
class Document:
    title: str
    footer: str
    meta: list[str] = field(default_factory=list)
    sections: list[tuple[str, list[str]]] = field(default_factory=list)


def footer_text(lang: str, profile: Profile | None = None) -> str:
    """The purpose-limitation footer: the unit profile's legal bases' footer texts, else the catalog's."""
    return (profile.footer(lang) if profile is not None else None) or t(lang, "export.footer")


def markdown(doc: Document) -> bytes:
    out = [f"# {doc.title}", ""]
    out += [f"{line}  " for line in doc.meta]
    for heading, rows in doc.sections:
        out += ["", f"## {heading}", ""]
        out += [f"- {row}" for row in rows] or ["- —"]
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
        def __init__(self, footer: str) -> None:
            super().__init__(orientation="portrait", unit="mm", format="A4")
            self._footer_text = latin1(footer)

        def footer(self) -> None:  # fpdf2 calls this on every page
            self.set_y(-16)
            self.set_font("Helvetica", "I", 7)
            self.multi_cell(0, 3.2, self._footer_text, align="C", new_x="LMARGIN", new_y="NEXT")
            self.set_font("Helvetica", "", 7)
            self.cell(0, 3.2, str(self.page_no()), align="C")

    return _Pdf


def _line(out: FPDF, text: str) -> None:
    """One row: a plain cell when it fits (about 25× faster than fpdf2's line breaking), else wrapped."""
    if out.get_string_width(text) <= out.epw:
        out.cell(0, 4.2, text, new_x="LMARGIN", new_y="NEXT")
    else:
        out.multi_cell(0, 4.2, text, new_x="LMARGIN", new_y="NEXT")


def start_pdf(title: str, footer: str, meta: list[str], *, compress: bool = True) -> FPDF:
    """An A4 document with the purpose footer and page number on every page, its title and meta lines begun."""
    out = _pdf_class()(footer)  # type: ignore[call-arg]
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


def pdf(doc: Document, *, compress: bool = True) -> bytes:
    out = start_pdf(doc.title, doc.footer, doc.meta, compress=compress)
    for heading, rows in doc.sections:
        out.ln(3)
        out.set_font("Helvetica", "B", 11)
        out.multi_cell(0, 6, latin1(heading), new_x="LMARGIN", new_y="NEXT")
        out.set_font("Helvetica", "", 8)
        for row in rows or ["-"]:
            _line(out, latin1(f"- {row}"))
    return bytes(out.output())


def attachments(doc: Document, stem: str, again: str = "") -> list[Attachment]:
    """`stem` names the file by meeting id only: nothing about a case goes into a file name. `again` is the
    command that shows the document privately; with `format=` it gives each file again."""
    return [Attachment(f"{stem}.md", "text/markdown", markdown(doc), f"{again} format=md" if again else ""),
            Attachment(f"{stem}.pdf", "application/pdf", pdf(doc), f"{again} format=pdf" if again else "")]
