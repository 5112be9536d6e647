"""The CSV writer: one row per table cell (section, row, column, value), as shown in the document (suppressed
figures stay suppressed). A language that writes a decimal comma (Danish) gets `;` between cells, as Excel in
that language expects; every CSV starts with a UTF-8 byte order mark, so Excel reads æøå and ≥ as such."""

from __future__ import annotations

import csv
import io

from babel.numbers import get_decimal_symbol

from commands.documents.escape import csv_cell, plain
from commands.documents.model import Document
from commands.messages import t


def delimiter(lang: str) -> str:
    try:
        return ";" if get_decimal_symbol(lang) == "," else ","
    except (ValueError, LookupError):
        return ","


def csv_bytes(doc: Document) -> bytes:
    lang = doc.lang
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter(lang), lineterminator="\r\n")

    def row(*cells: str) -> None:
        writer.writerow([csv_cell(plain(c)) for c in cells])

    row(t(lang, "doc.csv.section"), t(lang, "doc.csv.row"), t(lang, "doc.csv.column"), t(lang, "doc.csv.value"))
    notes: list[str] = []
    for section in doc.parts():
        if section.has_table:
            assert section.table is not None
            for cells in section.table.rows:
                for head, value in zip(section.table.header[1:], cells[1:], strict=True):
                    row(section.heading, cells[0].strip(), head, value)
            notes += [n for n in section.table.legend if n not in notes]
        else:
            for line in [*section.paragraphs, *section.lines]:
                row(section.heading, "", "", line)
        notes += [n for n in section.notes if n not in notes]
    for note in [*notes, *[n for n in doc.notes if n not in notes]]:
        row(t(lang, "doc.csv.note"), "", "", note.replace("`", ""))
    row(t(lang, "doc.csv.footer"), "", "", doc.footer)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
