"""The worker's report duty: the monthly KPI digest to the secretariat, year to date, aggregates suppressed
(commands/reports/: kpi.compute, the suppression and the target text)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from commands.context import Ctx, Services
from commands.reply import Invocation, Reply
from commands.reports import documents, kpi
from commands.reports.suppression import count, pct
from commands.time import timefmt
from storage.db import unit_of_work
from storage.fact_tables import ReportCase
from storage.models import OutboxMessage

DIGEST_CATCH_UP = timedelta(days=3)


def monthly_digest(svc: Services, now: datetime) -> bool:
    """Post the year-to-date targets to the secretariat channel once per month (suppressed aggregates)."""
    # From 08:00 on the month's first working day; a worker that was down then catches up within 3 days, but
    # a deployment started mid-month waits for the next month.
    cal = svc.calendar()
    month = cal.month_due(now, within=DIGEST_CATCH_UP)
    if month is None:
        return False
    end = month - timedelta(days=1)
    start = date(end.year, 1, 1)
    try:
        with unit_of_work(svc.engine) as session:
            ctx = Ctx(svc, session, Invocation(user_id="koordinator", text="", platform="worker"))
            key = f"report.digest:{month:%Y-%m}"
            if session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)).first() is not None:
                return False
            if session.exec(select(ReportCase.fact_key).limit(1)).first() is None:
                return False  # a unit with no case yet (a fresh install) gets no empty digest
            k = kpi.compute(session, start, end, now, cal.tz, ctx.profile.kpi_targets)
            lines = [ctx.t("report.digest.intro"), "", f"{ctx.t('report.concerns')}: {count(k.concerns)}",
                     ctx.t("report.digest.contacts", advice=count(k.advice), courses=count(k.courses))]
            for name in kpi.KPI_NAMES:
                r = k.ratios[name]
                lines.append(ctx.t("report.digest.line", name=ctx.t(f"report.kpi.{name}"),
                                   pct=pct(r.num, r.den, ctx.lang), target=documents.target_text(r.target, ctx.lang),
                                   pending=ctx.t("report.kpi.pending", count=count(r.pending)) if r.pending else ""))
            ctx.post_channel("secretariat", Reply(title=ctx.t("report.digest.title", start=timefmt.day(start, ctx.lang),
                                                              end=timefmt.day(end, ctx.lang)), text="\n".join(lines)),
                             dedupe_key=key)
            ctx.audit("report.digest", detail={"from": start.isoformat(), "to": end.isoformat(), "format": "post"})
    except IntegrityError:
        return False  # another worker posted it in the same instant
    return True
