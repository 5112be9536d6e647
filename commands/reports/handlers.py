"""`report kpi` and `report annual` (secretariat, admin). The monthly digest the worker posts is
scheduler/jobs/reports.py."""

from __future__ import annotations

import re
from datetime import date

from commands import access
from commands.context import Ctx
from commands.errors import UsageError
from commands.parsing import only_options
from commands.registry import command
from commands.reply import FieldLine, Reply
from commands.reports import annual, documents, kpi
from commands.time import timefmt
from commands.tokenizer import Args

FORMATS = ("md", "csv", "pdf")


def _year(raw: str) -> int:
    if not re.fullmatch(r"\d{4}", raw.strip()) or not 2000 <= int(raw) <= 2100:
        raise UsageError("report_year", value=raw[:20])
    return int(raw)


def _date(raw: str, option: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise UsageError("report_date", option=option, value=raw[:20]) from None


def period(ctx: Ctx, args: Args) -> tuple[date, date]:
    """year=YYYY, or from=… to=… (local calendar days, both included); default: this year."""
    opts = args.options
    if "year" in opts and ("from" in opts or "to" in opts):
        raise UsageError("report_period")
    if "year" in opts:
        year = _year(opts["year"])
        return date(year, 1, 1), date(year, 12, 31)
    today = ctx.local(ctx.now()).date()
    start = _date(opts["from"], "from") if "from" in opts else date(today.year, 1, 1)
    end = _date(opts["to"], "to") if "to" in opts else (date(start.year, 12, 31) if "from" in opts
                                                        else date(today.year, 12, 31))
    if start > end:
        raise UsageError("report_order")
    return start, end


def _ratio_line(ctx: Ctx, name: str, r: kpi.Ratio) -> str:
    pending = ctx.t("report.kpi.pending", count=r.pending) if r.pending else ""
    if r.den == 0:
        return ctx.t("report.kpi.empty", name=ctx.t(f"report.kpi.{name}"), pending=pending)
    return ctx.t("report.kpi.line", name=ctx.t(f"report.kpi.{name}"), num=r.num, den=r.den,
                 pct=timefmt.percent(r.num / r.den, ctx.lang, 1),
                 target=documents.target_text(r.target, ctx.lang),
                 verdict=ctx.t("report.met") if r.met else ctx.t("report.not_met"), pending=pending)


def kpi_reply(ctx: Ctx, k: kpi.Kpis) -> Reply:
    lines = [f"{ctx.t('report.concerns')}: {k.concerns}", *contact_lines(ctx, k),
             f"{ctx.t('report.open_now')}: {k.open_now}", ""]
    for name in kpi.KPI_NAMES:
        lines.append(_ratio_line(ctx, name, k.ratios[name]))
        if name == "visitation":
            for sev, r in k.visitation_by_severity.items():
                if r.den or r.pending:
                    lines.append(ctx.t("report.kpi.severity", severity=documents.label(ctx.lang, "severity", sev),
                                       num=r.num, den=r.den,
                                       pct=timefmt.percent(r.num / r.den, ctx.lang, 1) if r.den
                                       else "–",
                                       pending=ctx.t("report.kpi.pending", count=r.pending) if r.pending else ""))
    lines += _steps_lines(ctx, k)
    return Reply(title=ctx.t("report.kpi.title", start=timefmt.day(k.start, ctx.lang),
                                       end=timefmt.day(k.end, ctx.lang)),
                 text="\n".join(lines), fields=[FieldLine("ⓘ", ctx.t("report.kpi.exact"))])


def contact_lines(ctx: Ctx, k: kpi.Kpis) -> list[str]:
    """Contacts and case courses apart (the seed's "100 henvendelser og 18 sagsforløb"), and the cases taken
    over, which the visitation target leaves out."""
    lines = [ctx.t("report.contacts", contacts=k.contacts, advice=k.advice, courses=k.courses)]
    if k.taken_over:
        lines.append(ctx.tn("report.taken_over", k.taken_over))
    return lines


def _steps_lines(ctx: Ctx, k: kpi.Kpis) -> list[str]:
    """Steps on time per track (exact, like the rest of this reply); nothing while no case has a checklist."""
    shown = {track: r for track, r in k.steps_by_track.items() if r.den or r.pending}
    if not shown:
        return []
    lines = [ctx.t("report.kpi.steps")]
    for track, r in shown.items():
        lines.append(ctx.t("report.kpi.steps_track", track=documents.label(ctx.lang, "track", track), num=r.num,
                           den=r.den, pct=timefmt.percent(r.num / r.den, ctx.lang, 1) if r.den else "–",
                           pending=ctx.t("report.kpi.pending", count=r.pending) if r.pending else ""))
    return lines


def year_kpis(ctx: Ctx) -> FieldLine:
    """This year's targets for the secretariat's home page (exact: only the secretariat sees it)."""
    today = ctx.local(ctx.now()).date()
    k = kpi.compute(ctx.session, date(today.year, 1, 1), date(today.year, 12, 31), ctx.now(), ctx.tz,
                    ctx.profile.kpi_targets)
    lines = [f"{ctx.t('report.concerns')}: {k.concerns}", *contact_lines(ctx, k)]
    lines += [_ratio_line(ctx, name, k.ratios[name]) for name in kpi.KPI_NAMES]
    return FieldLine(ctx.t("report.home", year=today.year), "\n".join(lines))


@command("report kpi", "report kpi [year=YYYY | from=YYYY-MM-DD to=YYYY-MM-DD]", access.LEADS)
def report_kpi(ctx: Ctx, args: Args) -> Reply:
    only_options(args, {"year", "from", "to"})
    start, end = period(ctx, args)
    k = kpi.compute(ctx.session, start, end, ctx.now(), ctx.tz, ctx.profile.kpi_targets)
    ctx.audit("report.kpi", detail={"from": start.isoformat(), "to": end.isoformat(), "format": "reply"})
    return kpi_reply(ctx, k)


@command("report annual", "report annual year=YYYY [format=md|csv|pdf]", access.LEADS)
def report_annual(ctx: Ctx, args: Args) -> Reply:
    only_options(args, {"year", "format"})
    if "year" not in args.options:
        raise UsageError("missing_option", option="year", choices="2026")
    year = _year(args.options["year"])
    fmt = args.options.get("format", "md").strip().lower()
    if fmt not in FORMATS:
        raise UsageError("report_format", value=fmt[:20])
    data = annual.build(ctx.session, year, ctx.now(), ctx.tz,
                        ctx.profile.districts + ctx.profile.archived_districts, ctx.profile.kpi_targets)
    doc = documents.shown(data, ctx.lang)
    files = documents.attachments(doc, fmt, ctx.t("report.annual.file", year=year))
    ctx.audit("report.annual", detail={"from": f"{year}-01-01", "to": f"{year}-12-31", "format": fmt})
    text = ctx.t("report.annual.done", year=year, format=fmt)
    if data.kpis.concerns == 0:
        text += "\n" + ctx.t("report.annual.empty", year=year)
    return Reply(text=text, attachments=files)
