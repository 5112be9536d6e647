"""The Markdown writer: plain readable text that renders as exactly what the document says."""

from __future__ import annotations

from urllib.parse import quote

from commands.documents.escape import markdown_cell, markdown_text
from commands.documents.model import Document, Ours, Section, Table


def _heading(level: int, text: str) -> str:
    shown = markdown_text(text, block=False)
    if shown.endswith("#"):  # a closing sequence would be dropped
        shown = shown[:-1] + "\\#"
    return f"{'#' * level} {shown}"


def _table(table: Table) -> list[str]:
    align = table.align or ("LEFT",) * len(table.header)
    out = ["| " + " | ".join(markdown_cell(h) for h in table.header) + " |",
           "|" + "|".join("---:" if a == "RIGHT" else "---" for a in align) + "|"]
    out += ["| " + " | ".join(markdown_cell(c) for c in row) + " |" for row in table.rows]
    for line in table.legend:
        out += ["", f"*{markdown_text(line)}*"]
    return out


def _section(section: Section, empty: str) -> list[str]:
    out = [""]
    if section.heading:
        out += [_heading(section.level, section.heading), ""]
    for paragraph in section.paragraphs:
        out += [markdown_text(paragraph, links=isinstance(paragraph, Ours)), ""]
    if section.has_table:
        assert section.table is not None
        out += _table(section.table) + [""]
    elif section.lines:
        out += [f"- {markdown_text(line)}" for line in section.lines] + [""]
    elif not section.paragraphs and not section.charts:
        out += [markdown_text(section.empty or empty), ""]
    for chart in section.charts:
        out += [f"![{markdown_text(chart.title)}]({quote(chart.filename)})", ""]
    out += [f"*{markdown_text(note)}*\n" for note in section.notes]
    return out[:-1] if out[-1] == "" else out


def markdown(doc: Document) -> bytes:
    out = [_heading(1, doc.heading or doc.title), ""]
    out += [f"{markdown_text(line)}  " for line in doc.meta]
    for section in doc.parts():
        out += _section(section, doc.nothing())
    if doc.notes:
        out.append("")
        out += [f"*{markdown_text(note)}*\n" for note in doc.notes]
    out += ["", "---", "", f"*{markdown_text(doc.footer)}*", ""]
    return "\n".join(out).encode("utf-8")
