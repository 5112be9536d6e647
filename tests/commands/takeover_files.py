"""Takeover sheets for the tests: a clean file of the seed's kind of caseload, and a 30-row file with every
kind of row problem."""

from __future__ import annotations

import csv
import io

from commands.unit.sheet import COLUMNS

DA = [da for da, _ in COLUMNS.values()]
KEYS = list(COLUMNS)


def csv_bytes(rows: list[dict[str, str]], *, danish: bool = True) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if danish else ",", lineterminator="\r\n")
    writer.writerow(DA if danish else [en for _, en in COLUMNS.values()])
    for row in rows:
        writer.writerow([row.get(k, "") for k in KEYS])
    return ("\ufeff" if danish else "").encode("utf-8") + out.getvalue().encode("utf-8")


def xlsx_bytes(rows: list[dict[str, object]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(DA)
    for row in rows:
        sheet.append([row.get(k) for k in KEYS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def clean_rows() -> list[dict[str, str]]:
    """Six cases, nine persons: two still being qualified (one from 2015, long past its window), two referred
    with courses (one running, one ended, one offer declined in 2015), a family of three, two closed."""
    return [
        {"case_no": "2015-101", "received": "03-09-2015", "state": "kvalificeres", "severity": "høj",
         "track": "barn", "source": "skole", "summary": "Bekymring fra skolen.", "age": "15-17",
         "identifier": "010203-1234"},
        {"case_no": "2015-102", "received": "2015-10-01", "state": "ny", "severity": "normal", "track": "voksen",
         "age": "25+"},
        {"case_no": "2015-103", "received": "12.11.2015", "state": "aktiv", "severity": "høj", "track": "barn",
         "level": "foregribende", "authority": "SOF", "referred": "20-11-2015", "person": "1", "age": "15-17",
         "offer": "mentor", "offered": "01-12-2015", "answer": "accepteret", "started": "10-12-2015"},
        {"case_no": "2015-103", "person": "1", "offer": "forældrecoach", "offered": "01-12-2015",
         "answer": "afslået"},
        {"case_no": "2015-103", "person": "2", "age": "25+", "offer": "parent_course", "offered": "2016-01-05",
         "answer": "accepted", "started": "2016-01-10", "ended": "2016-03-01"},
        {"case_no": "2015-103", "person": "3", "age": "0-14"},
        {"case_no": "2016-007", "received": "2016-02-02", "state": "referred", "severity": "critical",
         "track": "crime", "authority": "Politiet", "age": "18-24", "offer": "exit", "offered": "2016-03-01",
         "answer": "declined"},
        {"case_no": "2014-055", "received": "2014-05-05", "state": "afsluttet", "severity": "normal",
         "track": "adult_psych", "authority": "PSYCH", "referred": "2014-05-09", "closed": "2015-06-30",
         "close_reason": "gennemført", "age": "25+", "offer": "mentor", "offered": "2014-06-01",
         "answer": "accepted", "started": "2014-06-02", "ended": "2015-06-01"},
        {"case_no": "2014-056", "received": "2014-06-01", "closed": "2014-06-10", "close_reason": "unfounded",
         "severity": "normal", "track": "child", "age": "0-14"},
    ]


def problem_rows() -> list[dict[str, str]]:
    """30 data rows: rows 2–10 are fine; every other row has its own kind of problem (or several)."""
    fine = [
        {"case_no": f"OK-{n}", "received": "2016-01-0" + str(n), "severity": "high", "track": "child",
         "age": "15-17"} for n in range(1, 10)
    ]
    bad = [
        {"case_no": "", "received": "2016-01-01", "severity": "high", "track": "child", "age": "15-17"},  # 11
        {"case_no": "B-1", "received": "32-13-2016", "severity": "high", "track": "child", "age": "15-17"},  # 12
        {"case_no": "B-2", "received": "2099-01-01", "severity": "high", "track": "child", "age": "15-17"},  # 13
        {"case_no": "B-3", "received": "2016-01-01", "severity": "mega", "track": "child", "age": "15-17"},  # 14
        {"case_no": "B-4", "received": "2016-01-01", "severity": "high", "track": "rum", "age": "15-17"},  # 15
        {"case_no": "B-5", "received": "2016-01-01", "severity": "high", "track": "child", "age": "99"},  # 16
        {"case_no": "B-6", "received": "2016-01-01", "severity": "high", "track": "child", "age": "15-17",
         "identifier": "Hans"},  # 17: a name without a birth date
        {"case_no": "B-7", "received": "2016-01-01", "severity": "high", "track": "child", "age": "15-17",
         "summary": "Ring til 20 30 40 50 om ham"},  # 18: a phone number
        {"case_no": "B-8", "received": "2016-01-01", "severity": "high", "track": "child", "age": "15-17",
         "state": "visiteret"},  # 19: referred without an authority
        {"case_no": "B-9", "received": "2016-01-01", "severity": "high", "track": "child", "age": "15-17",
         "state": "afsluttet"},  # 20: closed without date and reason
        {"case_no": "B-10", "received": "2016-01-01", "severity": "high", "track": "child", "age": "15-17",
         "authority": "010203-1234"},  # 21: an identifier in the wrong column (never echoed)
        {"case_no": "B-11", "received": "2016-01-01", "severity": "high", "track": "child", "age": "15-17",
         "owner": "@nobody"},  # 22
        {"case_no": "B-12", "received": "2016-01-01", "severity": "high", "track": "child", "age": "15-17",
         "offer": "mentor", "answer": "declined", "started": "2016-02-01"},  # 23: no offered date; course declined
        {"case_no": "B-13", "received": "2016-01-01", "severity": "high", "track": "child", "age": "15-17",
         "answer": "accepted"},  # 24: an answer without an offer
        {"case_no": "B-14", "received": "2016-03-01", "severity": "high", "track": "child", "age": "15-17",
         "referred": "2016-02-01", "authority": "SOF", "state": "referred"},  # 25: referred before received
        {"case_no": "B-15", "received": "2016-01-01", "severity": "high", "track": "child", "age": "15-17",
         "level": "maybe", "source": "radio", "basis": "gut", "close_reason": "bored"},  # 26: four columns
        {"case_no": "B-16", "received": "2016-01-01", "severity": "high", "track": "child"},  # 27: no age
        {"case_no": "B-16", "severity": "normal", "person": "x"},  # 28: conflicting severity; bad person
        {"case_no": "B-17", "received": "2016-01-01", "severity": "high", "track": "child", "age": "15-17",
         "offer": "mentor", "offered": "2016-01-05", "answer": "accepted", "started": "2016-01-10",
         "ended": "2016-01-09"},  # 29: ended before it started
        {"case_no": "B-18", "received": "2016-01-01", "severity": "high", "track": "child", "age": "15-17",
         "closed": "2016-02-01"},  # 30: … state inferred closed, but no reason
        {"case_no": "B-19", "received": "2016-01-01", "severity": "high", "track": "child", "age": "15-17",
         "state": "ny", "referred": "2016-01-02"},  # 31: new but referred
    ]
    return fine + bad


# What the secretariat corrects after the dry run: data row index (0-based, row number − 2) → the cells.
FIXES: dict[int, dict[str, str]] = {
    9: {"case_no": "B-0"}, 10: {"received": "01-01-2016"}, 11: {"received": "2016-01-01"},
    12: {"severity": "høj"}, 13: {"track": "barn"}, 14: {"age": "15-17"}, 15: {"identifier": "010203-1234"},
    16: {"summary": "Bekymring fra skolen om udtalelser"}, 17: {"authority": "SOF"},
    18: {"closed": "2016-03-01", "close_reason": "gennemført"}, 19: {"authority": "SOF"}, 20: {"owner": ""},
    21: {"offered": "2016-01-05", "answer": "accepteret"}, 22: {"answer": ""}, 23: {"referred": "2016-03-02"},
    24: {"level": "foregribende", "source": "skole", "basis": "rpl115", "close_reason": ""},
    25: {"age": "15-17"}, 26: {"severity": "", "person": "2", "age": "0-14"},
    27: {"ended": "2016-02-01"}, 28: {"close_reason": "unfounded"}, 29: {"referred": ""},
}


def fixed_rows() -> list[dict[str, str]]:
    """The 30 rows of problem_rows() as corrected after the dry run: 29 cases (B-16 has two persons)."""
    rows = [dict(r) for r in problem_rows()]
    for index, cells in FIXES.items():
        rows[index].update(cells)
    return rows
