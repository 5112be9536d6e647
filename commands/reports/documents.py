"""The annual report as a committee reads it: the same suppressed figures written as Markdown (with the PNG
charts beside it), CSV and PDF (charts inside), each with the §115(2) purpose footer."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from babel.dates import get_month_names

from commands import messages, timefmt
from commands.exports import footer_text
from commands.reply import Attachment
from commands.reports import suppression
from commands.reports.annual import UNSET, Annual, Grid, Table
from commands.reports.kpi import KPI_NAMES, Kpis, Ratio
from commands.reports.suppression import NO_PCT, count, pct


@dataclass
class Section:
    title: str
    header: list[str]
    rows: list[list[str]]


@dataclass
class Shown:
    """Everything the exported report says, suppressed, as strings: one source for every format."""

    title: str
    meta: str
    footer: str
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    charts_title: str = ""
    charts: list[tuple[str, str, bytes]] = field(default_factory=list)  # filename, title, PNG
    pages: str = "{page}"  # `Side {page} af {pages}`


def label(lang: str, kind: str, code: str) -> str:
    """A code in the reader's words (a unit's own district or indicator stays as it is)."""
    if code == UNSET:
        return messages.t(lang, "report.unset")
    return messages.label(lang, kind, code)


def target_text(target: float, lang: str) -> str:
    return ("= " if target >= 1.0 else "≥ ") + timefmt.percent(target, lang)


def _verdict(lang: str, r: Ratio) -> str:
    if r.den < suppression.LIMIT:
        return NO_PCT
    return messages.t(lang, "report.met") if r.met else messages.t(lang, "report.not_met")


def _kpi_rows(lang: str, k: Kpis, before: Kpis | None) -> list[list[str]]:
    rows = []
    for name in KPI_NAMES:
        r = k.ratios[name]
        rows.append([messages.t(lang, f"report.kpi.{name}"), count(r.num), count(r.den), pct(r.num, r.den, lang),
                     target_text(r.target, lang), _verdict(lang, r), count(r.pending),
                     *([pct(before.ratios[name].num, before.ratios[name].den, lang)] if before else [])])
        if name == "visitation":
            for sev, s in k.visitation_by_severity.items():
                p = before.visitation_by_severity.get(sev) if before else None
                rows.append([f"  {label(lang, 'severity', sev)}", count(s.num), count(s.den), pct(s.num, s.den, lang),
                             "", "", count(s.pending), *([pct(p.num, p.den, lang) if p else NO_PCT] if before else [])])
    return rows


def _column(values: list[int], total: bool) -> list[str]:
    """One year's column, protected against its total where the total is shown."""
    return suppression.column(values) if total else [count(v) for v in values]


def _table_rows(lang: str, t: Table, kind: str) -> list[list[str]]:
    now = _column(t.current, t.total)
    before = None if t.previous is None else _column(t.previous, t.total)
    rows = [[label(lang, kind, code), now[i], *([before[i]] if before else [])] for i, code in enumerate(t.labels)]
    if t.total:
        rows.append([messages.t(lang, "report.col.total"), count(sum(t.current)),
                     *([count(sum(t.previous or []))] if before else [])])
    return rows


def _grid_rows(lang: str, g: Grid) -> list[list[str]]:
    shown = suppression.grid(g.cells, row_totals=True, col_totals=True)
    rows = [[label(lang, "offer_kind", kind), *shown[i], count(sum(g.cells[i]))] for i, kind in enumerate(g.rows)]
    columns = [sum(row[c] for row in g.cells) for c in range(len(g.cols))]
    rows.append([messages.t(lang, "report.col.total"), *[count(v) for v in columns], count(sum(columns))])
    return rows


KINDS = {"source": "source", "track": "track", "district": "district", "age": "age", "level": "level",
         "severity": "severity", "referral": "org", "indicators": "indicator", "closures": "close_reason",
         "persons_track": "track", "results": "course_result"}


def shown(report: Annual, lang: str) -> Shown:
    t = messages.t
    year, prev = str(report.year), str(report.year - 1)
    before = report.previous_kpis
    doc = Shown(t(lang, "report.annual.title", year=year),
                t(lang, "report.annual.meta", year=year,
                  made=timefmt.when(report.made, lang)),
                footer_text(lang), pages=messages.t(lang, "export.page"))
    head = [t(lang, "report.col.kpi"), t(lang, "report.col.num"), t(lang, "report.col.den"),
            t(lang, "report.col.pct"), t(lang, "report.col.target"), t(lang, "report.col.verdict"),
            t(lang, "report.col.pending"), *([f"{t(lang, 'report.col.pct')} {prev}"] if before else [])]
    doc.sections.append(Section(t(lang, "report.section.kpi"), head, _kpi_rows(lang, report.kpis, before)))
    # The year's count of concerns beside last year's: a table of its own, under year columns (in the
    # targets table last year's count stood under "share <previous year>").
    doc.sections.append(Section(t(lang, "report.section.concerns"), ["", year, *([prev] if before else [])],
                                [[t(lang, "report.concerns"), count(report.kpis.concerns),
                                  *([count(before.concerns)] if before else [])]]))
    months = get_month_names("wide", locale=lang)
    month_rows = _table_rows(lang, report.months, "month")
    for i in range(12):
        month_rows[i][0] = months[i + 1].capitalize()
    years = [year, *([prev] if report.months.previous is not None else [])]
    doc.sections.append(Section(t(lang, "report.section.months"), ["", *years], month_rows))
    for table in report.tables:
        cols = [year, *([prev] if table.previous is not None else [])]
        doc.sections.append(Section(t(lang, f"report.section.{table.key}"), ["", *cols],
                                    _table_rows(lang, table, KINDS[table.key])))
    if report.offers is not None:
        doc.sections.append(Section(t(lang, "report.section.offers"),
                                    ["", *[label(lang, "offer_state", r) for r in report.offers.cols],
                                     t(lang, "report.col.total")], _grid_rows(lang, report.offers)))
    doc.sections.append(Section(t(lang, "report.section.median"),
                                ["", t(lang, "report.col.n"), t(lang, "report.col.median")],
                                [[label(lang, "track", m.track), count(m.n),
                                  NO_PCT if m.days is None or m.n < suppression.LIMIT
                                  else t(lang, "report.days", days=timefmt.number(m.days, lang))]
                                 for m in report.medians]))
    steps = {track: r for track, r in report.kpis.steps_by_track.items() if r.den or r.pending}
    if steps:  # only when cases follow work procedures
        doc.sections.append(Section(t(lang, "report.section.steps"),
                                    ["", t(lang, "report.col.on_time"), t(lang, "report.col.steps"),
                                     t(lang, "report.col.pct"), t(lang, "report.col.pending")],
                                    [[label(lang, "track", track), count(r.num), count(r.den),
                                      pct(r.num, r.den, lang), count(r.pending)] for track, r in steps.items()]))
    doc.notes = [t(lang, "report.note.small"), t(lang, "report.note.pending")]
    doc.charts_title = t(lang, "report.section.charts")
    doc.charts = _charts(report, doc, lang)
    return doc


def _charts(report: Annual, doc: Shown, lang: str) -> list[tuple[str, str, bytes]]:
    # matplotlib (with numpy and Pillow) costs ~40 MB and ~0.4 s in every process that imports it: only the
    # process that draws a report loads it (tests/test_lazy_imports.py).
    from commands.reports import charts

    t = messages.t
    year = report.year
    months = [m[:3] for m in list(get_month_names("abbreviated", locale=lang).values())]
    [month_section] = [s for s in doc.sections if s.title == t(lang, "report.section.months")]
    month_shown = [row[1] for row in month_section.rows[:12]]
    k = report.kpis
    names = [t(lang, f"report.kpi.{n}") for n in KPI_NAMES]
    values = [None if k.ratios[n].den < suppression.LIMIT else k.ratios[n].pct for n in KPI_NAMES]
    track = next(s for s in report.tables if s.key == "track")
    track_shown = suppression.column(track.current)
    base = t(lang, "report.annual.file", year=year)
    return [
        (f"{base}-concerns-per-month.png", t(lang, "report.chart.months", year=year),
         charts.counts(t(lang, "report.chart.months", year=year), months, month_shown)),
        (f"{base}-targets.png", t(lang, "report.chart.kpis", year=year),
         charts.targets(t(lang, "report.chart.kpis", year=year), names, values,
                        [k.ratios[n].target for n in KPI_NAMES],
                        [pct(k.ratios[n].num, k.ratios[n].den, lang) for n in KPI_NAMES])),
        (f"{base}-cases-by-track.png", t(lang, "report.chart.tracks", year=year),
         charts.counts(t(lang, "report.chart.tracks", year=year),
                       [label(lang, "track", c) for c in track.labels], track_shown)),
    ]


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;") if text else " "


def markdown(doc: Shown) -> bytes:
    out = [f"# {doc.title}", "", doc.meta, ""]
    for s in doc.sections:
        out += [f"## {s.title}", "", "| " + " | ".join(_md_cell(h) for h in s.header) + " |",
                "|" + "|".join("---" if i == 0 else "---:" for i in range(len(s.header))) + "|"]
        out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in s.rows]
        out.append("")
    if doc.charts:
        out += [f"## {doc.charts_title}", ""]
        out += [f"![{title}]({name})" for name, title, _ in doc.charts] + [""]
    out += [f"*{note}*" for note in doc.notes]
    out += ["", "---", "", f"*{doc.footer}*", ""]
    return "\n".join(out).encode("utf-8")


def csv_bytes(doc: Shown) -> bytes:
    """One row per cell: section, row, column, value (as shown: suppressed). A spreadsheet reads the value
    with ordinary spaces (`66,7 %`), so the document's no-break spaces are written as spaces."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "row", "column", "value"])
    for s in doc.sections:
        for row in s.rows:
            for head, value in zip(s.header[1:], row[1:], strict=True):
                writer.writerow([s.title, row[0].strip(), head, value.replace("\u00a0", " ")])
    for note in doc.notes:
        writer.writerow(["note", "", "", note])
    writer.writerow(["footer", "", "", doc.footer])
    return out.getvalue().encode("utf-8")


def attachments(doc: Shown, fmt: str, base: str) -> list[Attachment]:
    if fmt == "csv":
        return [Attachment(f"{base}.csv", "text/csv", csv_bytes(doc))]
    if fmt == "pdf":
        from commands.reports.pdf import pdf

        return [Attachment(f"{base}.pdf", "application/pdf", pdf(doc))]
    return [Attachment(f"{base}.md", "text/markdown", markdown(doc)),
            *[Attachment(name, "image/png", png) for name, _, png in doc.charts]]
