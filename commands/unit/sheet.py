"""The takeover file (`unit import template|cases`): its columns, written as a template (CSV for Excel in
Danish: UTF-8 with BOM, `;`; and XLSX) and read back (CSV with `;` or `,`, with or without BOM; XLSX).

One row per person of a case (a case of three persons is three rows with the same case number; an offer more
for a person is one row more with the same case and person number). The case's own columns are read from its
first row that fills them. Pure: no database, nothing stored.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000

# key → (Danish header, English header). The order is the template's.
COLUMNS: dict[str, tuple[str, str]] = {
    "case_no": ("Sagsnr.", "Case no."),
    "received": ("Modtaget", "Received"),
    "state": ("Status", "State"),
    "severity": ("Alvor", "Severity"),
    "track": ("Spor", "Track"),
    "level": ("Niveau", "Level"),
    "source": ("Kilde", "Source"),
    "district": ("Bydel", "District"),
    "basis": ("Hjemmel", "Legal basis"),
    "authority": ("Myndighed", "Authority"),
    "owner": ("Ejer", "Owner"),
    "referred": ("Visiteret", "Referred"),
    "closed": ("Afsluttet", "Closed"),
    "close_reason": ("Afslutningsårsag", "Close reason"),
    "summary": ("Resumé", "Summary"),
    "person": ("Person", "Person"),
    "age": ("Alder", "Age band"),
    "identifier": ("Identifikation (gemmes ikke)", "Identifier (not stored)"),
    "offer": ("Tilbud", "Offer"),
    "offered": ("Tilbudt", "Offered"),
    "answer": ("Svar", "Answer"),
    "started": ("Forløb start", "Course started"),
    "ended": ("Forløb slut", "Course ended"),
}
REQUIRED = ("case_no", "received", "severity", "track", "age")
EXAMPLE = {
    "da": {"case_no": "2015-117", "received": "03-09-2015", "state": "visiteret", "severity": "høj",
           "track": "barn", "level": "foregribende", "source": "skole", "authority": "SOF", "referred": "10-09-2015",
           "summary": "Bekymring fra skolen om udtalelser i klassen.", "person": "1", "age": "15-17",
           "identifier": "", "offer": "mentor", "offered": "01-10-2015", "answer": "accepteret",
           "started": "15-10-2015"},
    "en": {"case_no": "2015-117", "received": "2015-09-03", "state": "referred", "severity": "high",
           "track": "child", "level": "pre_emptive", "source": "school", "authority": "SOF",
           "referred": "2015-09-10", "summary": "School's concern about statements in class.", "person": "1",
           "age": "15-17", "identifier": "", "offer": "mentor", "offered": "2015-10-01", "answer": "accepted",
           "started": "2015-10-15"},
}


class SheetError(ValueError):
    """The file as a whole cannot be read: a catalog key (`takeover.file.…`) and its parameters."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key, self.params = key, params


@dataclass
class Row:
    number: int  # the spreadsheet's row number (the header is row 1)
    values: dict[str, object]  # column key → text (stripped), or a date/datetime from an XLSX cell

    def text(self, key: str) -> str:
        value = self.values.get(key)
        if value is None:
            return ""
        if isinstance(value, datetime | date):
            return value.isoformat()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return " ".join(str(value).split())


@dataclass
class Sheet:
    rows: list[Row]
    headers: dict[str, str]  # column key → the header as the file wrote it (for problems)


def _norm(header: object) -> str:
    return " ".join(str(header or "").replace("\ufeff", "").split()).strip().lower().rstrip(":")


HEADER_KEYS = {_norm(name): key for key, names in COLUMNS.items() for name in (*names, key)}


def header_name(key: str, lang: str) -> str:
    da, en = COLUMNS[key]
    return da if lang == "da" else en


def template_csv(lang: str) -> bytes:
    """Danish: `;` and a BOM, as Excel in Danish opens it; English: `,`. Header row and one example row."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if lang == "da" else ",", lineterminator="\r\n")
    writer.writerow([header_name(k, lang) for k in COLUMNS])
    example = EXAMPLE["da" if lang == "da" else "en"]
    writer.writerow([example.get(k, "") for k in COLUMNS])
    return ("\ufeff" if lang == "da" else "").encode("utf-8") + out.getvalue().encode("utf-8")


def template_xlsx(lang: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Sager" if lang == "da" else "Cases"
    sheet.append([header_name(k, lang) for k in COLUMNS])
    example = EXAMPLE["da" if lang == "da" else "en"]
    sheet.append([example.get(k, "") for k in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for n, key in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[_letter(n)].width = max(12, len(header_name(key, lang)) + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _letter(n: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(n)


def _is_xlsx(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def _csv_rows(data: bytes) -> list[list[object]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SheetError("takeover.file.encoding") from None
    if "\x00" in text:
        raise SheetError("takeover.file.unreadable")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    return [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _xlsx_rows(data: bytes) -> list[list[object]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise SheetError("takeover.file.unreadable") from None
    try:
        sheet = book.worksheets[0]
        return [list(r) for _, r in zip(range(MAX_ROWS + 2), sheet.iter_rows(values_only=True), strict=False)]
    finally:
        book.close()


def read(data: bytes) -> Sheet:
    """The file's rows by column key. SheetError when the file as a whole is not a takeover sheet."""
    if not data.strip():
        raise SheetError("takeover.file.empty")
    if len(data) > MAX_BYTES:
        raise SheetError("takeover.file.too_big", limit=MAX_BYTES // (1024 * 1024))
    raw = [(n, r) for n, r in enumerate(_xlsx_rows(data) if _is_xlsx(data) else _csv_rows(data), start=1)
           if any(str(c).strip() for c in r if c is not None)]
    if not raw:
        raise SheetError("takeover.file.empty")
    header = raw[0][1]
    keys: dict[int, str] = {}
    headers: dict[str, str] = {}
    unknown: list[str] = []
    for i, cell in enumerate(header):
        name = _norm(cell)
        if not name:
            continue
        key = HEADER_KEYS.get(name)
        if key is None:
            unknown.append(str(cell).strip()[:40])
        elif key not in headers:
            keys[i], headers[key] = key, str(cell).replace("\ufeff", "").strip()
    missing = [k for k in REQUIRED if k not in headers]
    if missing or unknown:
        raise SheetError("takeover.file.columns", missing=", ".join(missing) or "—",
                         unknown=", ".join(unknown) or "—")
    if len(raw) - 1 > MAX_ROWS:
        raise SheetError("takeover.file.too_many", limit=MAX_ROWS)
    rows = []
    for n, cells in raw[1:]:
        values = {key: cells[i] for i, key in keys.items()
                  if i < len(cells) and cells[i] is not None and str(cells[i]).strip()}
        rows.append(Row(n, values))
    return Sheet(rows, headers)
