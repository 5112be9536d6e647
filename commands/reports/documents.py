"""The annual report as a committee reads it: the suppressed figures as one document (commands.documents),
written as Markdown (with its own PNG charts beside it), CSV and PDF (charts inside), each with the §115(2)
purpose footer. Each table carries the legend of the marks it uses (`<5`, `x`, `–`) right beneath it.
A new count is a new `Section` appended in `shown` (or by a caller, before the files are written)."""

from __future__ import annotations

import hashlib

from babel.dates import get_month_names

from commands import documents, messages
from commands.documents import Chart, Document, Section, Table
from commands.reply import Attachment
from commands.reports import suppression
from commands.reports.annual import UNSET, Annual, Grid
from commands.reports.annual import Table as Counts
from commands.reports.kpi import KPI_NAMES, Kpis, Ratio
from commands.reports.suppression import HIDDEN, NO_PCT, SMALL, count, pct, small
from commands.time import timefmt

LEGENDS = ((SMALL, "report.legend.small"), (HIDDEN, "report.legend.hidden"), (NO_PCT, "report.legend.no_pct"))


def label(lang: str, kind: str, code: str) -> str:
    """A code in the reader's words (a unit's own district or indicator stays as it is)."""
    if code == UNSET:
        return messages.t(lang, "report.unset")
    return messages.label(lang, kind, code)


def target_text(target: float, lang: str, *, document: bool = False) -> str:
    """`≥ 60 %`, `= 100 %`; in a document a target of all cases is just `100 %` (a cell that starts with `=` is
    a formula to a spreadsheet)."""
    sign = ("" if document else "= ") if target >= 1.0 else "≥ "
    return sign + timefmt.percent(target, lang)


def _verdict(lang: str, r: Ratio) -> str:
    if r.den < suppression.LIMIT:
        return NO_PCT
    return messages.t(lang, "report.met") if r.met else messages.t(lang, "report.not_met")


def _kpi_rows(lang: str, k: Kpis, before: Kpis | None) -> list[list[str]]:
    rows = []
    for name in KPI_NAMES:
        r = k.ratios[name]
        rows.append([messages.t(lang, f"report.kpi.{name}"), count(r.num), count(r.den), pct(r.num, r.den, lang),
                     target_text(r.target, lang, document=True), _verdict(lang, r), count(r.pending),
                     *([pct(before.ratios[name].num, before.ratios[name].den, lang)] if before else [])])
        if name == "visitation":
            for sev, s in k.visitation_by_severity.items():
                p = before.visitation_by_severity.get(sev) if before else None
                indent = "\u00a0\u00a0"  # kept by every format (a table cell's plain spaces are not)
                rows.append([f"{indent}{label(lang, 'severity', sev)}", count(s.num), count(s.den),
                             pct(s.num, s.den, lang), "", "", count(s.pending),
                             *([pct(p.num, p.den, lang) if p else NO_PCT] if before else [])])
    return rows


def _column(values: list[int], total: bool) -> list[str]:
    """One year's column, protected against its total where the total is shown."""
    return suppression.column(values) if total else [count(v) for v in values]


def _table_rows(lang: str, t: Counts, kind: str) -> list[list[str]]:
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


# The seed's indicator: contacts ("henvendelser") and case courses ("sagsforløb") apart; cases taken over.
CONTACT_ROWS = (("concerns", "report.concerns"), ("contacts", "report.row.contacts"),
                ("advice", "report.row.advice"), ("courses", "report.row.courses"),
                ("taken_over", "report.row.taken_over"))


def contact_cell(k: Kpis, name: str) -> str:
    """Contacts in all = concerns + advice: with the advice count hidden (1–4), the total would give it away by
    subtraction, so the total is hidden too (complementary suppression)."""
    if name == "contacts" and small(k.advice):
        return HIDDEN
    return count(getattr(k, name))


def legend(lang: str, rows: list[list[str]], extra: tuple[str, ...] = ()) -> list[str]:
    """The marks this table uses, explained where it stands."""
    used = {cell for row in rows for cell in row[1:]}
    return [messages.t(lang, key) for mark, key in LEGENDS if mark in used] + [messages.t(lang, k) for k in extra]


# The targets table's columns (label, numerator, denominator, share, target, met, pending, last year's share):
# wide enough for their headings' longest word in the PDF.
KPI_WIDTHS = (0.34, 0.08, 0.085, 0.085, 0.085, 0.12, 0.09, 0.095)


def _section(lang: str, title: str, header: list[str], rows: list[list[str]], extra: tuple[str, ...] = (),
             widths: tuple[float, ...] = ()) -> Section:
    first = 0.46 if len(header) > 4 else 0.5
    rest = (1 - first) / max(len(header) - 1, 1)
    return Section(title, table=Table(header, rows, widths or (first, *[rest] * (len(header) - 1)),
                                      ("LEFT", *["RIGHT"] * (len(header) - 1)), legend(lang, rows, extra)))


def shown(report: Annual, lang: str) -> Document:
    t = messages.t
    year, prev = str(report.year), str(report.year - 1)
    before = report.previous_kpis
    doc = Document(t(lang, "report.annual.title", year=year), documents.footer_text(lang),
                   [t(lang, "report.annual.meta", year=year, made=timefmt.when(report.made, lang))],
                   pages=documents.page_text(lang), lang=lang, empty=t(lang, "none"))
    add = doc.sections.append
    head = [t(lang, "report.col.kpi"), t(lang, "report.col.num"), t(lang, "report.col.den"),
            t(lang, "report.col.pct"), t(lang, "report.col.target"), t(lang, "report.col.verdict"),
            t(lang, "report.col.pending"), *([f"{t(lang, 'report.col.pct')} {prev}"] if before else [])]
    add(_section(lang, t(lang, "report.section.kpi"), head, _kpi_rows(lang, report.kpis, before),
                 ("report.note.pending",), KPI_WIDTHS[:len(head)]))
    # The year's count of concerns beside last year's: a table of its own, under year columns (in the
    # targets table last year's count stood under "share <previous year>").
    add(_section(lang, t(lang, "report.section.concerns"), ["", year, *([prev] if before else [])],
                 [[t(lang, label), contact_cell(report.kpis, name), *([contact_cell(before, name)] if before else [])]
                  for name, label in CONTACT_ROWS]))
    months = get_month_names("wide", locale=lang)
    month_rows = _table_rows(lang, report.months, "month")
    for i in range(12):
        month_rows[i][0] = months[i + 1].capitalize()
    years = [year, *([prev] if report.months.previous is not None else [])]
    add(_section(lang, t(lang, "report.section.months"), ["", *years], month_rows))
    for table in report.tables:
        cols = [year, *([prev] if table.previous is not None else [])]
        add(_section(lang, t(lang, f"report.section.{table.key}"), ["", *cols],
                     _table_rows(lang, table, KINDS[table.key])))
    if report.offers is not None:
        add(_section(lang, t(lang, "report.section.offers"),
                     ["", *[label(lang, "offer_state", r) for r in report.offers.cols], t(lang, "report.col.total")],
                     _grid_rows(lang, report.offers)))
    add(_section(lang, t(lang, "report.section.median"), ["", t(lang, "report.col.n"), t(lang, "report.col.median")],
                 [[label(lang, "track", m.track), count(m.n),
                   NO_PCT if m.days is None or m.n < suppression.LIMIT
                   else t(lang, "report.days", days=timefmt.number(m.days, lang))] for m in report.medians]))
    steps = {track: r for track, r in report.kpis.steps_by_track.items() if r.den or r.pending}
    if steps:  # only when cases follow work procedures
        add(_section(lang, t(lang, "report.section.steps"),
                     ["", t(lang, "report.col.on_time"), t(lang, "report.col.steps"), t(lang, "report.col.pct"),
                      t(lang, "report.col.pending")],
                     [[label(lang, "track", track), count(r.num), count(r.den), pct(r.num, r.den, lang),
                       count(r.pending)] for track, r in steps.items()]))
    add(Section(t(lang, "report.section.charts"), charts=_charts(report, doc, lang),
                notes=[t(lang, "report.legend.chart")]))
    return doc


def _charts(report: Annual, doc: Document, lang: str) -> list[Chart]:
    """The three charts; each file's name carries a digest of its picture, so a second export (of other
    figures) never links the first one's PNG files, and the same figures give the same names."""
    # matplotlib (with numpy and Pillow) costs ~40 MB and ~0.4 s in every process that imports it: only the
    # process that draws a report loads it (tests/test_lazy_imports.py).
    from commands.reports import charts

    t = messages.t
    year = report.year
    months = [m[:3] for m in list(get_month_names("abbreviated", locale=lang).values())]
    [month_section] = [s for s in doc.parts() if s.heading == t(lang, "report.section.months")]
    assert month_section.table is not None
    month_shown = [row[1] for row in month_section.table.rows[:12]]
    k = report.kpis
    names = [t(lang, f"report.kpi.{n}") for n in KPI_NAMES]
    values = [None if k.ratios[n].den < suppression.LIMIT else k.ratios[n].pct for n in KPI_NAMES]
    track = next(s for s in report.tables if s.key == "track")
    track_shown = suppression.column(track.current)
    base = t(lang, "report.annual.file", year=year)
    drawn = [
        ("concerns-per-month", t(lang, "report.chart.months", year=year),
         charts.counts(t(lang, "report.chart.months", year=year), months, month_shown)),
        ("targets", t(lang, "report.chart.kpis", year=year),
         charts.targets(t(lang, "report.chart.kpis", year=year), names, values,
                        [k.ratios[n].target for n in KPI_NAMES],
                        [pct(k.ratios[n].num, k.ratios[n].den, lang) for n in KPI_NAMES])),
        ("cases-by-track", t(lang, "report.chart.tracks", year=year),
         charts.counts(t(lang, "report.chart.tracks", year=year),
                       [label(lang, "track", c) for c in track.labels], track_shown)),
    ]
    return [Chart(f"{base}-{name}-{hashlib.sha256(png).hexdigest()[:8]}.png", title, png)
            for name, title, png in drawn]


def attachments(doc: Document, fmt: str, base: str) -> list[Attachment]:
    return documents.attachments(doc, base, formats=(fmt,))
