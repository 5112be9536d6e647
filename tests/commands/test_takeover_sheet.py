"""The takeover sheet reader (commands/unit/sheet.py): whatever bytes arrive, it returns the rows or says
what is wrong with the file as a whole (SheetError) — never a traceback; CSV with `;` or `,`, with or without
BOM, and XLSX read the same rows with the spreadsheet's own row numbers."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from takeover_files import clean_rows, csv_bytes, xlsx_bytes

from commands.unit import sheet


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_any_bytes_are_rows_or_a_sheet_error(data: bytes) -> None:
    try:
        result = sheet.read(data)
    except sheet.SheetError as exc:
        assert exc.key.startswith("takeover.file.")
    else:
        assert all(row.number >= 2 for row in result.rows)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
                         max_size=8), max_size=6), st.sampled_from([";", ","]))
def test_any_csv_text_is_rows_or_a_sheet_error(cells: list[list[str]], delimiter: str) -> None:
    header = delimiter.join(da for da, _ in sheet.COLUMNS.values())
    body = "\n".join(delimiter.join(c.replace(delimiter, " ").replace("\n", " ").replace('"', "")
                                    for c in row) for row in cells)
    try:
        result = sheet.read(f"{header}\n{body}".encode())
    except sheet.SheetError as exc:
        assert exc.key.startswith("takeover.file.")
    else:
        assert set(result.headers) == set(sheet.COLUMNS)


def test_a_broken_xlsx_is_a_sheet_error() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(sheet.SheetError) as caught:
        sheet.read(buffer.getvalue())
    assert caught.value.key == "takeover.file.unreadable"


def test_csv_and_xlsx_read_the_same_rows_with_spreadsheet_row_numbers() -> None:
    rows = clean_rows()
    danish, english, book = (sheet.read(csv_bytes(rows)), sheet.read(csv_bytes(rows, danish=False)),
                             sheet.read(xlsx_bytes(rows)))  # type: ignore[arg-type]
    for parsed in (danish, english, book):
        assert [r.number for r in parsed.rows] == list(range(2, len(rows) + 2))
        assert [r.text("case_no") for r in parsed.rows] == [r.get("case_no", "") for r in rows]
    assert danish.headers["received"] == "Modtaget" and english.headers["received"] == "Received"


def test_blank_rows_keep_the_numbers_of_the_rows_after_them() -> None:
    data = csv_bytes(clean_rows()[:2]).replace(b"\r\n2015-102", b"\r\n;;;\r\n2015-102")
    assert [r.number for r in sheet.read(data).rows] == [2, 4]


def test_a_latin1_file_and_unknown_columns_are_named() -> None:
    with pytest.raises(sheet.SheetError) as caught:
        sheet.read("Sagsnr.;Modtaget;Alvor;Spor;Alder;Farve\nø;1;2;3;4;5\n".encode("latin-1"))
    assert caught.value.key == "takeover.file.encoding"
    with pytest.raises(sheet.SheetError) as caught:
        sheet.read(b"Sagsnr.;Modtaget;Farve\n1;2;3\n")
    assert caught.value.params == {"missing": "severity, track, age", "unknown": "Farve"}
