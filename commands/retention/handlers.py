"""`case hold|release`, `unit retention`, and the monthly notice of coming erasures to the secretariat."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from babel.dates import format_date
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from commands import access
from commands.cases.erasure import due_day, due_text, hold_text
from commands.context import Ctx, Services
from commands.errors import UsageError
from commands.parsing import only_options
from commands.registry import case_command, command
from commands.reply import FieldLine, Invocation, Reply
from commands.retention import erase
from commands.time import timefmt
from commands.tokenizer import Args
from storage import sealed
from storage.db import unit_of_work
from storage.enums import CaseState
from storage.models import Case, OutboxMessage

LIST_LIMIT = 50


def _day(ctx: Ctx, value: date) -> str:
    return timefmt.day(value, ctx.lang)


@case_command("case hold", 'case hold KE-… reason="…"', access.ADMIN)
def hold(ctx: Ctx, args: Args, case: Case) -> Reply:
    only_options(args, {"reason"})
    reason = (args.options.get("reason") or "").strip()
    if not reason:
        raise UsageError("hold_reason")
    if len(reason) > 1000:
        raise UsageError("too_long", option="reason", limit=1000)
    if case.hold_at is not None:
        raise UsageError("already_held", ref=case.ref, since=ctx.fmt(case.hold_at))
    case.hold_at, case.hold_by = ctx.now(), ctx.member.id
    case.hold_reason_ct, case.hold_reason_kid = ctx.encrypt(reason, sealed.CASE_HOLD.label)
    ctx.session.add(case)
    ctx.audit("case.hold", case_ref=case.ref, purpose=reason)
    return Reply(text=ctx.t("hold.done", ref=case.ref))


@case_command("case release", "case release KE-…", access.ADMIN)
def release(ctx: Ctx, args: Args, case: Case) -> Reply:
    only_options(args, set())
    if case.hold_at is None:
        raise UsageError("not_held", ref=case.ref)
    held_days = (ctx.now() - case.hold_at).days
    case.hold_at = case.hold_by = None
    case.hold_reason_ct = case.hold_reason_kid = None
    ctx.session.add(case)
    ctx.audit("case.release", case_ref=case.ref, detail={"held_days": held_days})
    return Reply(text=ctx.t("hold.released", ref=case.ref, due=due_text(ctx, case)))


@command("unit retention", "unit retention", access.LEADS)
def retention(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set())
    s = ctx.settings
    held = list(ctx.session.exec(select(Case).where(col(Case.hold_at).is_not(None), col(Case.erased_at).is_(None))
                                 .order_by(col(Case.ref))))
    closed = ctx.session.exec(select(Case).where(Case.state == CaseState.closed.value, col(Case.erased_at).is_(None),
                                                 col(Case.hold_at).is_(None)))
    due = sorted(((due_day(ctx.svc, c, ctx.tz), c.ref) for c in closed), key=lambda x: (x[0] or date.max, x[1]))
    reply = Reply(title=ctx.t("retention.title"), text=ctx.t(
        "retention.rules_n", days=ctx.tn("n.days", s.retention_days),
        unfounded=ctx.tn("n.days", s.retention_days_unfounded)))
    for case in held:
        reply.fields.append(FieldLine(f"{ctx.t('retention.holds')} · {case.ref}", hold_text(ctx, case)))
    lines = [ctx.t("retention.due_line", day=_day(ctx, day), ref=ref) for day, ref in due[:LIST_LIMIT] if day]
    if len(due) > LIST_LIMIT:
        lines.append(ctx.t("retention.more", count=len(due) - LIST_LIMIT))
    reply.fields.append(FieldLine(ctx.t("retention.due"), "\n".join(lines) or ctx.t("none")))
    ctx.audit("retention.view", detail={"held": len(held), "due": len(due)})
    return reply


def monthly_notice(svc: Services, now: datetime) -> list[str] | None:
    """Tell the secretariat channel, once a month, which references will be erased in the coming month
    (references only). Returns them when the notice was queued now."""
    cal = svc.calendar()
    month = cal.month_due(now)
    if month is None:
        return None
    end = (month + timedelta(days=32)).replace(day=1)
    key = f"retention.notice:{month.isoformat()[:7]}"
    try:
        with unit_of_work(svc.engine) as session:
            if session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)).first() is not None:
                return None
            ctx = Ctx(svc, session, Invocation(user_id=erase.WORKER, text="", platform="worker"))
            closed = session.exec(select(Case).where(Case.state == CaseState.closed.value,
                                                     col(Case.erased_at).is_(None), col(Case.hold_at).is_(None)))
            refs = sorted(c.ref for c in closed if (d := due_day(svc, c, cal.tz)) is not None and d < end)
            if not refs:
                return None
            name = format_date(month, "LLLL y", locale=cal.lang)
            ctx.post_channel("secretariat", Reply(title=ctx.t("retention.notice.title", month=name),
                                                  text=ctx.t("retention.notice", month=name, refs=", ".join(refs))),
                             dedupe_key=key)
            ctx.audit("retention.notice", detail={"month": month.isoformat()[:7], "cases": len(refs)})
    except IntegrityError:
        return None  # another worker queued it in the same instant
    return refs
