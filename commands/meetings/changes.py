"""Meetings that change (SPEC.md §3 Changes): list, edit and end a series from a date on, move one meeting.

A change never touches a meeting before its date. From that date the series is re-planned: a meeting that
keeps its (local) date keeps its reference, agenda edits and agenda state; one that disappears is cancelled;
new ones get new references. The series stays one calendar event (one UID for its whole life) whose
SEQUENCE rises with every change, so Outlook and Google update it instead of adding a second one.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from commands import access, confirm
from commands.context import Ctx
from commands.errors import UsageError
from commands.meetings.meeting import (
    fixed_participants,
    instance_update,
    invited,
    is_fixed,
    meeting_by_ref,
    meeting_invitation,
    overlapping,
    participants,
    require_open,
    series_of,
    series_ref,
    series_update,
    single_update,
    title,
    weekday,
    when_text,
)
from commands.meetings.schedule import _duration, _time, holiday_policy
from commands.messages import t
from commands.parsing import natural_datetime, only_options
from commands.registry import command
from commands.reply import Attachment, Reply
from commands.time import recurrence, timefmt
from commands.time.materialise import meeting_ref, occurrences, series_start_local
from commands.tokenizer import Args
from storage.models import Meeting, MeetingSeries

SERIES_REF = re.compile(r"S-(\d{1,6})$", re.IGNORECASE)
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
EDIT_USAGE = ('meeting series edit S-… [name="…"] [rrule="…"] [time=09:00] [duration=90m] '
              "[holidays=skip|next_workday] [from=YYYY-MM-DD]")
END_USAGE = "meeting series end S-… [from=YYYY-MM-DD]"
MOVE_USAGE = 'meeting move M-… when="…"'
MOVE_WITHOUT_ASKING = timedelta(days=7)  # farther than this from where the meeting stands: ask first


def series_by_ref(ctx: Ctx, raw: str | None, *, lock: bool = False) -> MeetingSeries:
    if not raw:
        raise UsageError("missing_series")
    match = SERIES_REF.match(raw.strip())
    if not match:
        raise UsageError("bad_series_ref", value=raw[:20])
    ref = f"S-{int(match.group(1))}"
    stmt = select(MeetingSeries).where(MeetingSeries.ref == ref)
    if lock and ctx.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()  # as materialise() does: no worker extends the old rule meanwhile
    series = ctx.session.exec(stmt).first()
    if series is None:
        raise UsageError("unknown_series", ref=ref)
    return series


# The rule in words -----------------------------------------------------------------------------------------

def _parts(rule: str) -> dict[str, str]:
    return dict(p.split("=", 1) for p in rule.split(";") if "=" in p)


def _days(lang: str, codes: list[str]) -> str:
    names = t(lang, "series.weekdays").split(",")
    words = [names[DAYS.index(c)] for c in codes]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {t(lang, 'series.and')} {words[-1]}"


def rule_words(lang: str, rule: str, at: time, tz: ZoneInfo) -> str:
    """"hver anden torsdag kl. 9.00" / "every other Thursday at 09:00"; an unusual rule is shown as it is."""
    parts = _parts(rule)
    freq, interval = parts.get("FREQ"), int(parts.get("INTERVAL", "1"))
    byday = [d for d in parts.get("BYDAY", "").split(",") if d]
    simple = set(parts) <= {"FREQ", "INTERVAL", "BYDAY", "UNTIL", "WKST", "BYMONTHDAY", "BYSETPOS"}
    words = None
    if simple and freq == "WEEKLY" and byday and all(d in DAYS for d in byday) and "BYMONTHDAY" not in parts:
        key = {1: "series.every_week", 2: "series.every_2_weeks", 3: "series.every_3_weeks"}.get(interval,
                                                                                                   "series.every_n_weeks")
        words = t(lang, key, days=_days(lang, byday), n=interval)
    elif simple and freq == "DAILY" and not byday and "BYMONTHDAY" not in parts:
        words = t(lang, "series.every_day") if interval == 1 else t(lang, "series.every_n_days", n=interval)
    elif simple and freq == "MONTHLY" and interval == 1:
        words = _monthly(lang, parts, byday)
    if words is None:
        words = t(lang, "series.raw", rule=rule)
    words += " " + t(lang, "series.at", hour=at.hour, minute=at.minute)
    if "UNTIL" in parts:
        until = datetime.strptime(parts["UNTIL"], "%Y%m%dT%H%M%SZ").replace(tzinfo=ZoneInfo("UTC")).astimezone(tz)
        words += " " + t(lang, "series.until", date=timefmt.day(until, lang))
    return words


def _monthly(lang: str, parts: dict[str, str], byday: list[str]) -> str | None:
    if "BYMONTHDAY" in parts and not byday and parts["BYMONTHDAY"].isdigit():
        return t(lang, "series.monthly_day", day=int(parts["BYMONTHDAY"]))
    match = re.fullmatch(r"([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)", byday[0]) if len(byday) == 1 else None
    if match is None or "BYMONTHDAY" in parts:
        return None
    nth = int(match.group(1) or parts.get("BYSETPOS", "0"))
    if nth == 0 or nth < -1 or nth > 5 or (match.group(1) and "BYSETPOS" in parts):
        return None
    ordinal = t(lang, "series.last") if nth == -1 else t(lang, "series.ordinals").split(",")[nth - 1]
    return t(lang, "series.monthly_nth", nth=ordinal, day=_days(lang, [match.group(2)]))


# Listing ---------------------------------------------------------------------------------------------------

def _upcoming(ctx: Ctx, series: MeetingSeries, limit: int) -> list[Meeting]:
    return list(ctx.session.exec(select(Meeting).where(Meeting.series_id == series.id, Meeting.state == "scheduled",
                                                       col(Meeting.starts_at) > ctx.now())
                                 .order_by(col(Meeting.starts_at)).limit(limit)))


def _state(ctx: Ctx, series: MeetingSeries, upcoming: list[Meeting]) -> str:
    until = _parts(series.rrule).get("UNTIL")
    if until is None:
        return ctx.t("series.state.active")
    if not upcoming:
        return ctx.t("series.state.ended")
    end = datetime.strptime(until, "%Y%m%dT%H%M%SZ").replace(tzinfo=ZoneInfo("UTC"))
    return ctx.t("series.state.ends", date=ctx.fmt_day(end))


def _meeting_short(ctx: Ctx, meeting: Meeting) -> str:
    return f"{meeting.ref} {weekday(ctx.lang, meeting.starts_at, ctx.tz)} {when_text(ctx, meeting)}"


def _rule_of(ctx: Ctx, series: MeetingSeries) -> str:
    tz = ZoneInfo(series.tz)
    return rule_words(ctx.lang, series.rrule, series_start_local(series).time(), tz)


@command("meeting series list", "meeting series list", access.STAFF)
def series_list(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set())
    lines = []
    for series in ctx.session.exec(select(MeetingSeries).order_by(col(MeetingSeries.id))):
        upcoming = _upcoming(ctx, series, 3)
        lines.append(ctx.t("series.line", ref=series_ref(series), name=series.name, rule=_rule_of(ctx, series),
                           minutes=series.duration_min, policy=ctx.t(f"series.policy.{series.holiday_policy}"),
                           state=_state(ctx, series, upcoming)))
        lines.append(ctx.t("series.next", meetings="; ".join(_meeting_short(ctx, m) for m in upcoming)
                           or ctx.t("none")))
    if not lines:
        return Reply(text=ctx.t("series.none"))
    return Reply(title=ctx.t("series.list_title"), text="\n".join(lines))


# Re-planning -------------------------------------------------------------------------------------------------

def _from_day(ctx: Ctx, args: Args, series: MeetingSeries) -> date:
    today = ctx.local(ctx.now()).date()
    raw = args.options.get("from")
    if raw is None:
        upcoming = _upcoming(ctx, series, 1)
        return ctx.local(upcoming[0].starts_at).date() if upcoming else today
    try:
        day = datetime.strptime(raw.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise UsageError("bad_date", option="from", value=raw[:20]) from None
    if day < today:
        raise UsageError("from_past", value=raw[:20])
    return day


def _cut(ctx: Ctx, day: date, tz: ZoneInfo) -> datetime:
    """The first instant the change applies to: the start of `from`, never before now."""
    return max(recurrence.to_utc(datetime.combine(day, time(0), tzinfo=tz)), ctx.now())


def _ahead(ctx: Ctx, series: MeetingSeries, cut: datetime) -> list[Meeting]:
    return list(ctx.session.exec(select(Meeting).where(Meeting.series_id == series.id, Meeting.state != "closed",
                                                       col(Meeting.starts_at) >= cut)
                                 .order_by(col(Meeting.starts_at), col(Meeting.id))))


def _first(rule: str, tz: ZoneInfo, anchor: datetime, day: date, now: datetime) -> datetime | None:
    """The rule's first instance on or after `day` and after now, counted from `anchor` (which sets the
    fortnight's parity)."""
    built = recurrence.build(rule, anchor)
    found = built.after(datetime.combine(day, time(0), tzinfo=tz), inc=True)
    while found is not None:
        local = datetime.combine(found.date(), found.time(), tzinfo=tz)
        if local > now:
            return local
        found = built.after(found, inc=False)
    return None


def _drop(meeting: Meeting) -> None:
    meeting.state, meeting.sequence = "cancelled", meeting.sequence + 1


Plan = tuple[list[Meeting], list[Meeting], list[Meeting], list[Meeting]]


def _replan(ctx: Ctx, series: MeetingSeries, cut: datetime) -> Plan:
    """Rows from `cut` on against the (already changed) series: (kept, dropped, created, kept but retimed)."""
    tz = ZoneInfo(series.tz)
    rows = _ahead(ctx, series, cut)
    by_day: dict[date, Meeting] = {}
    for row in sorted(rows, key=lambda m: m.state != "scheduled"):  # a held-on date wins over a cancelled one
        by_day.setdefault(row.starts_at.astimezone(tz).date(), row)
    horizon = ctx.now() + timedelta(days=ctx.settings.meeting_horizon_days)
    duration = timedelta(minutes=series.duration_min)
    kept: list[Meeting] = []
    created: list[Meeting] = []
    retimed: list[Meeting] = []
    matched: set[int | None] = set()
    for occ in occurrences(series, series.dtstart, horizon, ctx.cal):
        if occ.start is None:
            continue
        start = recurrence.to_utc(occ.start)
        row = by_day.pop(occ.start.date(), None)
        if row is None:
            row = Meeting(ref=meeting_ref(ctx.session, occ.start.year), series_id=series.id, kind="series",
                          starts_at=start, ends_at=start + duration, original_start=recurrence.to_utc(occ.original),
                          created_by=ctx.actor.id if ctx.actor else None, created_at=ctx.now())
            created.append(row)
        else:
            matched.add(row.id)
            if (row.starts_at, row.ends_at) != (start, start + duration):
                row.sequence += 1
                retimed.append(row)
            row.starts_at, row.ends_at = start, start + duration
            row.original_start = recurrence.to_utc(occ.original)
            kept.append(row)
        ctx.session.add(row)
    dropped = [r for r in rows if r.id not in matched and r.state == "scheduled"]
    for row in dropped:
        _drop(row)
        ctx.session.add(row)
    series.materialised_until = max(series.materialised_until, horizon)
    series.sequence += 1
    ctx.session.add(series)
    ctx.session.flush()
    return kept, dropped, created, retimed


def _tell(ctx: Ctx, series: MeetingSeries, rows: tuple[list[Meeting], list[Meeting]], dm: str,
          notice: str, **params: str) -> list[Attachment]:
    """One update to every fixed participant (a REQUEST, and a CANCEL per dropped meeting); an invited ad hoc
    participant gets their meeting's own cancellation or update; the unit channel a one-line notice."""
    dropped, changed = rows
    update = series_update(ctx.svc, ctx.session, series, ctx.now(), dropped)
    for member in fixed_participants(ctx.session):
        if member.user_id != ctx.inv.user_id:
            ctx.send_dm(member.user_id, Reply(text=ctx.t(dm, **params), attachments=update))
    for meeting in [*dropped, *changed]:
        for member in invited(ctx.session, meeting):
            if not is_fixed(member) and member.user_id != ctx.inv.user_id:
                ctx.send_dm(member.user_id, Reply(text=ctx.t(dm, **params), attachments=[
                    meeting_invitation(ctx.svc, ctx.session, meeting, ctx.now())]))
    ctx.post_channel("unit", Reply(text=ctx.t(notice, **params)))
    return update


def _refs(ctx: Ctx, meetings: list[Meeting]) -> str:
    return ", ".join(m.ref for m in meetings) or ctx.t("none")


@command("meeting series edit", EDIT_USAGE, access.LEADS)
def series_edit(ctx: Ctx, args: Args) -> Reply:
    only_options(args, {"name", "rrule", "time", "duration", "holidays", "from"}, words=1)
    series = series_by_ref(ctx, args.words[0] if args.words else None, lock=True)
    changes = sorted(set(args.options) - {"from"})
    if not changes:
        raise UsageError("series_nothing")
    tz = ZoneInfo(series.tz)
    name = series.name
    if "name" in args.options:
        name = args.options["name"].strip()
        if not name:
            raise UsageError("missing_option", option="name", choices='"Koordineringsmøde"')
        if len(name) > 128:
            raise UsageError("too_long", option="name", limit=128)
    rule = series.rrule
    if "rrule" in args.options:
        try:
            rule = recurrence.normalise_rule(args.options["rrule"], tz)
        except recurrence.RuleError as exc:
            raise UsageError("bad_rrule", reason=ctx.t(f"rrule.{exc.code}")) from None
    old_start = series_start_local(series)
    at = _time(args.options["time"]) if "time" in args.options else old_start.time()
    minutes = _duration(args, series.duration_min)
    policy = holiday_policy(args.options.get("holidays"), series.holiday_policy)
    day = _from_day(ctx, args, series)
    same_rule = rule == series.rrule
    if "rrule" not in args.options and day < old_start.date():
        # the current rule applies from an earlier edit's date; the meetings before it follow the rule before
        # that: re-planning them with the current rule would cancel them (no one asked for a new rhythm)
        earlier = ctx.session.exec(select(Meeting).where(
            Meeting.series_id == series.id, Meeting.state == "scheduled",
            col(Meeting.starts_at) >= _cut(ctx, day, tz), col(Meeting.starts_at) < series.dtstart)).first()
        if earlier is not None:
            raise UsageError("series_edit_before_rule", ref=series_ref(series), rule=_rule_of(ctx, series),
                             date=timefmt.day(old_start.date(), ctx.lang), value=f"{old_start.date():%Y-%m-%d}")
    anchor = datetime.combine(old_start.date() if same_rule else day, at, tzinfo=tz)
    first = _first(rule, tz, anchor, max(day, old_start.date()) if same_rule else day, ctx.now())
    if first is None:
        raise UsageError("rrule_empty")
    series.name, series.rrule, series.duration_min, series.holiday_policy = name, rule, minutes, policy
    series.dtstart = recurrence.to_utc(first)
    kept, dropped, created, retimed = _replan(ctx, series, _cut(ctx, day, tz))
    words = _rule_of(ctx, series)
    upcoming = ", ".join(_meeting_short(ctx, m) for m in _upcoming(ctx, series, 3)) or ctx.t("none")
    params = {"ref": series_ref(series), "name": name, "date": timefmt.day(day, ctx.lang), "rule": words,
              "dropped": _refs(ctx, dropped), "next": upcoming}
    update = _tell(ctx, series, (dropped, retimed), "series.changed_dm", "series.changed_notice", **params)
    ctx.audit("meeting.series_edit", detail={"series": series_ref(series), "from": f"{day:%Y-%m-%d}",
                                             "changes": changes, "rrule": rule, "kept": [m.ref for m in kept],
                                             "dropped": [m.ref for m in dropped],
                                             "created": [m.ref for m in created], "sequence": series.sequence})
    text = ctx.t("series.changed", kept=_refs(ctx, kept), created=_refs(ctx, created), **params)
    return Reply(title=name, text=text, attachments=update)


@command("meeting series end", END_USAGE, access.LEADS)
def series_end(ctx: Ctx, args: Args) -> Reply:
    only_options(args, {"from"}, words=1)
    series = series_by_ref(ctx, args.words[0] if args.words else None, lock=True)
    tz = ZoneInfo(series.tz)
    day = _from_day(ctx, args, series)
    cut = _cut(ctx, day, tz)
    parts = _parts(series.rrule)
    if "UNTIL" in parts or "COUNT" in parts:  # already bounded: is there anything left to end?
        rule = recurrence.build(series.rrule, series_start_local(series))
        if rule.after(cut.astimezone(tz), inc=True) is None:
            raise UsageError("series_already_ends", ref=series_ref(series), date=timefmt.day(day, ctx.lang))
    body = ";".join(f"{k}={v}" for k, v in parts.items() if k not in ("UNTIL", "COUNT"))
    series.rrule = recurrence.normalise_rule(f"{body};UNTIL={day - timedelta(days=1):%Y%m%d}", tz)
    dropped = [m for m in _ahead(ctx, series, cut) if m.state == "scheduled"]
    for meeting in dropped:
        _drop(meeting)
        ctx.session.add(meeting)
    series.sequence += 1
    ctx.session.add(series)
    ctx.session.flush()
    params = {"ref": series_ref(series), "name": series.name, "date": timefmt.day(day, ctx.lang),
              "dropped": _refs(ctx, dropped)}
    update = _tell(ctx, series, (dropped, []), "series.ended_dm", "series.ended_notice", **params)
    ctx.audit("meeting.series_end", detail={"series": series_ref(series), "from": f"{day:%Y-%m-%d}",
                                            "dropped": [m.ref for m in dropped], "sequence": series.sequence})
    return Reply(title=series.name, text=ctx.t("series.ended", **params), attachments=update)


# Moving one meeting ------------------------------------------------------------------------------------------

@command("meeting move", MOVE_USAGE, access.LEADS)
def meeting_move(ctx: Ctx, args: Args) -> Reply:
    only_options(args, {"when"}, words=1)
    meeting = meeting_by_ref(ctx, args.words[0] if args.words else None)
    require_open(ctx, meeting)
    if meeting.starts_at <= ctx.now():
        raise UsageError("meeting_started", ref=meeting.ref)
    if not args.options.get("when"):
        raise UsageError("missing_option", option="when", choices='"2027-03-30 09:00", "tirsdag 9:00"')
    # A weekday means that day in the meeting's own week, not in the week the command is typed.
    starts = natural_datetime(args.options["when"], ctx.tz, ctx.now(), "when",
                              week_of=ctx.local(meeting.starts_at).date())
    if starts == meeting.starts_at:
        raise UsageError("meeting_same_time", ref=meeting.ref)
    old = f"{weekday(ctx.lang, meeting.starts_at, ctx.tz)} {when_text(ctx, meeting)}"
    question = _move_question(ctx, meeting, starts, old)
    if question is not None:
        return question
    was = meeting.starts_at
    meeting.ends_at = starts + (meeting.ends_at - meeting.starts_at)
    meeting.starts_at, meeting.sequence = starts, meeting.sequence + 1
    if meeting.published_at is None:
        meeting.draft_sent_at = None  # the draft goes out again, 48 h before the new time
    ctx.session.add(meeting)
    series = series_of(ctx.session, meeting)
    if series is not None:
        series.sequence += 1
        ctx.session.add(series)
    ctx.session.flush()
    new = f"{weekday(ctx.lang, meeting.starts_at, ctx.tz)} {when_text(ctx, meeting)}"
    fixed_update = (instance_update(ctx.svc, ctx.session, meeting, ctx.now()) if series is not None
                    else single_update(ctx.svc, ctx.session, meeting, ctx.now()))
    name = title(ctx.lang, meeting, series)
    for member in participants(ctx.session, meeting):
        if member.user_id == ctx.inv.user_id:
            continue
        attachment = fixed_update if is_fixed(member) else single_update(ctx.svc, ctx.session, meeting, ctx.now())
        ctx.send_dm(member.user_id, Reply(text=ctx.t("meeting.moved_dm", ref=meeting.ref, name=name, old=old, new=new),
                                          attachments=[attachment]))
    ctx.post_channel("unit", Reply(text=ctx.t("meeting.moved_notice", ref=meeting.ref, old=old, new=new)))
    ctx.audit("meeting.move", detail={"meeting": meeting.ref, "from": ctx.fmt(was),
                                      "to": ctx.fmt(starts), "sequence": meeting.sequence})
    return Reply(text=ctx.t("meeting.moved_to", ref=meeting.ref, old=old, new=new), attachments=[fixed_update])


def _move_question(ctx: Ctx, meeting: Meeting, starts: datetime, old: str) -> Reply | None:
    """Into the past, more than a week from where it stands, or onto another meeting: ask first."""
    ends = starts + (meeting.ends_at - meeting.starts_at)
    new = f"{weekday(ctx.lang, starts, ctx.tz)} {timefmt.span(ctx.local(starts), ctx.local(ends), ctx.lang)}"
    reasons = []
    if starts <= ctx.now():
        reasons.append(ctx.t("move.confirm_past"))
    days = abs((ctx.local(starts).date() - ctx.local(meeting.starts_at).date()).days)
    if days > MOVE_WITHOUT_ASKING.days:
        reasons.append(ctx.tn("move.confirm_far", days))
    for other in overlapping(ctx, starts, ends, exclude=meeting.id):
        reasons.append(ctx.t("move.confirm_clash", ref=other.ref, when=when_text(ctx, other)))
    if not reasons:
        return None
    told = len([m for m in participants(ctx.session, meeting) if m.user_id != ctx.inv.user_id])
    lines = [ctx.t("move.confirm_what", ref=meeting.ref, old=old, new=new), *reasons,
             ctx.tn("move.confirm_told", told)]
    return confirm.ask(ctx, f"move|{meeting.ref}|{meeting.sequence}|{starts.isoformat()}", lines,
                       ctx.t("move.confirm_button"))
