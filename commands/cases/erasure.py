"""When a closed case is erased, and what `case show` says about its hold and its erasure day. The erasure
itself, `case hold` and `unit retention` are commands/retention/'s."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from commands.context import Ctx, Services
from commands.markup import mention
from commands.members.people import member_by_id
from commands.time import timefmt
from storage import sealed
from storage.enums import CaseState, CloseReason
from storage.models import Case


def retention_days(svc: Services, case: Case) -> int:
    if case.close_reason == CloseReason.unfounded.value:
        return svc.settings.retention_days_unfounded
    return svc.settings.retention_days


def due_day(svc: Services, case: Case, tz: ZoneInfo | None = None) -> date | None:
    """The local day (the unit's time zone, `tz` when the caller has it) a closed case is erased on (from
    00:00), or None while it is open or already erased."""
    if case.closed_at is None or case.erased_at is not None or case.state != CaseState.closed.value:
        return None
    tz = tz or svc.calendar().tz
    return case.closed_at.astimezone(tz).date() + timedelta(days=retention_days(svc, case))


def _day(ctx: Ctx, value: date) -> str:
    return timefmt.day(value, ctx.lang)


def tombstone(ctx: Ctx, case: Case) -> str:
    assert case.erased_at is not None
    return ctx.t("tombstone", ref=case.ref, day=ctx.fmt_day(case.erased_at))


def hold_text(ctx: Ctx, case: Case) -> str:
    assert case.hold_at is not None
    return ctx.t("hold.line", since=ctx.fmt(case.hold_at), by=mention(member_by_id(ctx, case.hold_by)),
                 reason=ctx.decrypt(case.hold_reason_ct, case.hold_reason_kid, sealed.CASE_HOLD.label))


def due_text(ctx: Ctx, case: Case) -> str:
    day = due_day(ctx.svc, case, ctx.tz)
    return ctx.t("hold.due", day=_day(ctx, day)) if day is not None else ctx.t("hold.due_open")
