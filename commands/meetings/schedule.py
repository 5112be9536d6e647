"""Meetings: the series (set up once), ad hoc meetings, invitations and cancellations (SPEC.md §3).

Channel notices carry meeting ids, times and case references only; an ad hoc meeting's topic is free text
and is shown only privately. Every invitation is a DM with an .ics file; `meeting feed` keeps calendars
current after that.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from commands import access, confirm, markup
from commands.context import Ctx
from commands.errors import UsageError
from commands.meetings import minutes as minutes_book
from commands.meetings import rhythm
from commands.meetings.agenda import build_agenda, status
from commands.meetings.meeting import (
    fixed_participants,
    is_fixed,
    meeting_by_ref,
    meeting_invitation,
    participants,
    require_open,
    series_invitation,
    series_of,
    series_ref,
    series_update,
    title,
    visible_meetings,
    weekday,
    when_text,
)
from commands.members.people import member_by_ref
from commands.parsing import case_ref, natural_datetime, only_options, resolve
from commands.registry import command
from commands.reply import Reply
from commands.time import recurrence, timefmt
from commands.time.materialise import materialise, meeting_ref, occurrences
from commands.tokenizer import Args
from storage import sealed
from storage.enums import OPEN_STATES, Role
from storage.models import AgendaEdit, Case, Meeting, MeetingInvite, MeetingSeries

LIST_LIMIT = 10
DEFAULT_SERIES = ('meeting series add name="Koordineringsmøde" every="hver anden torsdag kl. 9" '
                  "duration=90m holidays=skip")
SERIES_USAGE = ('meeting series add name="…" every="hver anden torsdag kl. 9" [duration=90m] '
                '[holidays=skip|next_workday] [start=YYYY-MM-DD] | meeting series add name="…" '
                'rrule="FREQ=WEEKLY;BYDAY=TU" time=09:00 [duration=90m] …')


def _line(ctx: Ctx, meeting: Meeting, series: MeetingSeries | None) -> str:
    name = title(ctx.lang, meeting, series) + (f" ({series_ref(series)})" if series is not None else "")
    return ctx.t("meeting.line", ref=meeting.ref, day=weekday(ctx.lang, meeting.starts_at, ctx.tz),
                 when=when_text(ctx, meeting), name=name, state=meeting.state,
                 agenda=ctx.t(f"agenda.status.{status(meeting)}"))


def _exceptions(ctx: Ctx, series: MeetingSeries, until: datetime) -> list[str]:
    """Skipped and moved dates ahead, named, so nobody wonders why a Thursday is missing."""
    out = []
    cal = ctx.cal
    for occ in occurrences(series, max(ctx.now(), series.dtstart), until, cal):
        name = recurrence.holiday_name(occ.original.date(), cal.categories, ctx.lang, cal.country)
        if occ.start is None:
            out.append(ctx.t("meeting.skipped", date=timefmt.day(occ.original, ctx.lang), holiday=name))
        elif occ.moved:
            out.append(ctx.t("meeting.moved", date=timefmt.day(occ.original, ctx.lang), holiday=name,
                             to=timefmt.when(occ.start, ctx.lang)))
    return out


@command("meeting list", "meeting list", access.STAFF | {Role.adhoc})
def meeting_list(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set())
    meetings = list(ctx.session.exec(visible_meetings(ctx).where(
        Meeting.state == "scheduled", col(Meeting.ends_at) > ctx.now())
        .order_by(col(Meeting.starts_at), col(Meeting.id)).limit(LIST_LIMIT)))
    all_series = {s.id: s for s in ctx.session.exec(select(MeetingSeries).order_by(col(MeetingSeries.id)))}
    lines = [_line(ctx, m, all_series.get(m.series_id)) for m in meetings]
    if meetings and all_series:
        horizon = meetings[-1].starts_at + timedelta(days=1)
        for series in all_series.values():
            lines += _exceptions(ctx, series, horizon)
    if not all_series:
        proposal = ctx.t("meeting.propose_default", command=DEFAULT_SERIES)
        return Reply(title=ctx.t("meeting.list_title"), text="\n".join([*lines, "", proposal] if lines else [proposal]))
    if not lines:
        return Reply(text=ctx.t("meeting.none_ahead"))
    return Reply(title=ctx.t("meeting.list_title"), text="\n".join(lines))


def _duration(args: Args, default: int | None) -> int:
    raw = args.options.get("duration")
    if raw is None:
        if default is None:
            raise UsageError("missing_option", option="duration", choices="90m, 1h, 1h30m")
        return default
    minutes = recurrence.parse_duration(raw)
    if minutes is None:
        raise UsageError("bad_duration", value=raw[:20])
    return minutes


def holiday_policy(raw: str | None, default: str) -> str:
    """`holidays=skip|next_workday`, or its words ("springes over", "flyttes til næste hverdag")."""
    return resolve(recurrence.POLICIES, raw, "holidays", "holidays") if raw else default


def _time(raw: str | None) -> time:
    if not raw:
        raise UsageError("missing_option", option="time", choices="09:00")
    try:
        at = datetime.strptime(raw.strip().replace(".", ":"), "%H:%M").time()
    except ValueError:
        raise UsageError("bad_time", value=raw[:20]) from None
    if not recurrence.valid_start_time(at):
        raise UsageError("dst_hour", value=raw[:20])
    return at


@command("meeting series add", SERIES_USAGE, access.LEADS)
def series_add(ctx: Ctx, args: Args) -> Reply:
    only_options(args, {"name", "rrule", "every", "time", "duration", "holidays", "start"})
    name = (args.options.get("name") or "").strip()
    if not name:
        raise UsageError("missing_option", option="name", choices='"Koordineringsmøde"')
    if len(name) > 128:
        raise UsageError("too_long", option="name", limit=128)
    tz = ctx.tz
    rule_text, said_time = args.options.get("rrule") or "", None
    if "every" in args.options:  # the rhythm in words (commands/meetings/rhythm.py); rrule= for experts
        if "rrule" in args.options:
            raise UsageError("every_or_rrule")
        try:
            rule_text, said_time = rhythm.parse(args.options["every"])
        except rhythm.RhythmError:
            raise UsageError("bad_every", option="every", value=args.options["every"][:60],
                             examples=ctx.t("rhythm.examples")) from None
    elif not rule_text:
        raise UsageError("missing_option", option="every", choices=ctx.t("rhythm.examples"))
    try:
        rule = recurrence.normalise_rule(rule_text, tz)
    except recurrence.RuleError as exc:
        raise UsageError("bad_rrule", reason=ctx.t(f"rrule.{exc.code}")) from None
    at = _time(args.options.get("time") or said_time)
    minutes = _duration(args, 90)
    policy = holiday_policy(args.options.get("holidays"), "skip")
    start_day = ctx.local(ctx.now()).date()
    if "start" in args.options:
        try:
            start_day = datetime.strptime(args.options["start"], "%Y-%m-%d").date()
        except ValueError:
            raise UsageError("bad_date", option="start", value=args.options["start"][:20]) from None
    first = _first_future(rule, tz, start_day, at, ctx.now())
    if first is None:
        raise UsageError("rrule_empty")
    series = MeetingSeries(name=name, rrule=rule, tz=tz.key, dtstart=recurrence.to_utc(first), duration_min=minutes,
                           holiday_policy=policy, materialised_until=recurrence.to_utc(first),
                           created_by=ctx.actor.id if ctx.actor else None, created_at=ctx.now())
    ctx.session.add(series)
    ctx.session.flush()
    series.ref = f"S-{series.id}"
    ctx.session.add(series)
    created = materialise(ctx.session, series, ctx.now(), ctx.settings.meeting_horizon_days, ctx.cal)
    ctx.audit("meeting.series_add", detail={"series": series.ref, "rrule": rule, "policy": policy,
                                            "meetings": len(created)})
    upcoming = [_line(ctx, m, series) for m in created[:6]]
    if len(created) > 6:
        upcoming.append(ctx.t("meeting.series_more", meetings=ctx.tn("n.meetings", len(created) - 6)))
    exceptions = _exceptions(ctx, series, ctx.now() + timedelta(days=ctx.settings.meeting_horizon_days))
    next_dates = ", ".join(ctx.fmt(m.starts_at) for m in created[:3]) or "—"
    ctx.post_channel("unit", Reply(text=ctx.t("meeting.series_notice", name=name, next=next_dates,
                                              count=len(created))))
    for member in fixed_participants(ctx.session):
        ctx.send_dm(member.user_id, Reply(text=ctx.t("meeting.series_invite", name=name, next=next_dates),
                                          attachments=[series_invitation(ctx.svc, ctx.session, series, ctx.now())]),
                    dedupe_key=f"series-invite:{series.id}:{member.user_id}")
    return Reply(title=name, text="\n".join([ctx.t("meeting.series_created_n", name=name,
                                                   meetings=ctx.tn("n.meetings", len(created)),
                                                   days=ctx.tn("n.days", ctx.settings.meeting_horizon_days)), *upcoming,
                                             *exceptions]))


def _first_future(rule: str, tz: ZoneInfo, start_day: date, at: time, now: datetime) -> datetime | None:
    """The first instance on or after the start day that is still ahead (the rule's own anchor decides
    the fortnight's parity, so a later instance of the same rule keeps it)."""
    anchor = recurrence.first_occurrence(rule, tz, start_day, at)
    if anchor is None or anchor > now:
        return anchor
    later = recurrence.build(rule, anchor).after(now.astimezone(tz), inc=False)
    return None if later is None else datetime.combine(later.date(), later.time(), tzinfo=tz)


def _cases(ctx: Ctx, raw: str | None) -> list[Case]:
    if not raw:
        return []
    refs = list(dict.fromkeys(case_ref(part) for part in raw.split(",") if part.strip()))
    found = {c.ref: c for c in ctx.session.exec(select(Case).where(col(Case.ref).in_(refs)))}
    for ref in refs:
        if ref not in found:
            raise UsageError("unknown_case", ref=ref)
        if found[ref].state not in OPEN_STATES:
            raise UsageError("case_closed", ref=ref)
    return [found[r] for r in refs]


@command("meeting adhoc", 'meeting adhoc when="…" duration=60m topic="…" [cases=KE-…,KE-…]', access.STAFF)
def meeting_adhoc(ctx: Ctx, args: Args) -> Reply:
    only_options(args, {"when", "duration", "topic", "cases"})
    if not args.options.get("when"):
        raise UsageError("missing_option", option="when", choices='"tomorrow 14:00", "i morgen 14:00"')
    starts = natural_datetime(args.options["when"], ctx.tz, ctx.now(), "when")
    if starts <= ctx.now():
        raise UsageError("meeting_past", value=args.options["when"][:40])
    minutes = _duration(args, 60)
    topic = (args.options.get("topic") or "").strip()
    if len(topic) > 200:
        raise UsageError("too_long", option="topic", limit=200)
    cases = _cases(ctx, args.options.get("cases"))
    meeting = Meeting(ref=meeting_ref(ctx.session, ctx.local(starts).year), kind="adhoc", starts_at=starts,
                      ends_at=starts + timedelta(minutes=minutes), created_by=ctx.actor.id if ctx.actor else None,
                      created_at=ctx.now())
    if topic:
        meeting.topic_ct, meeting.topic_kid = ctx.encrypt(topic, sealed.MEETING_TOPIC.label)
    ctx.session.add(meeting)
    ctx.session.flush()
    for case in cases:
        ctx.session.add(AgendaEdit(meeting_id=meeting.id, case_id=case.id, action="add",  # type: ignore[arg-type]
                                   actor_id=ctx.actor.id if ctx.actor else None, at=ctx.now()))
    ctx.session.flush()
    build_agenda(ctx.svc, ctx.session, meeting, ctx.now())
    refs = ", ".join(c.ref for c in cases) or "—"
    when = f"{weekday(ctx.lang, starts, ctx.tz)} {when_text(ctx, meeting)}"
    ctx.post_channel("unit", Reply(text=ctx.t("meeting.adhoc_notice", ref=meeting.ref, when=when, cases=refs)))
    invitation = meeting_invitation(ctx.svc, ctx.session, meeting, ctx.now())
    invited = 0
    for member in fixed_participants(ctx.session):
        if member.user_id == ctx.inv.user_id:
            continue
        ctx.send_dm(member.user_id, Reply(text=ctx.t("meeting.invite_dm", ref=meeting.ref, when=when,
                                                     name=ctx.t("meeting.adhoc_title")), attachments=[invitation]))
        invited += 1
    ctx.audit("meeting.adhoc", detail={"meeting": meeting.ref, "cases": [c.ref for c in cases]})
    text = ctx.t("meeting.adhoc_created_n", ref=meeting.ref, when=when, cases=refs,
                 invited=ctx.tn("n.fixed_participants", invited))
    if topic:
        text += "\n" + ctx.t("meeting.topic", topic=topic)
    return Reply(text=text, attachments=[invitation], details=bool(topic))  # the topic is free text


@command("meeting invite", "meeting invite M-… @user", access.LEADS)
def meeting_invite(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set(), words=2)
    meeting = meeting_by_ref(ctx, args.words[0] if args.words else None)
    require_open(ctx, meeting)
    who = args.mentions[0] if args.mentions else (args.words[1] if len(args.words) > 1 else None)
    member = member_by_ref(ctx, who, "user")
    if not is_fixed(member):
        exists = ctx.session.exec(select(MeetingInvite).where(MeetingInvite.meeting_id == meeting.id,
                                                              MeetingInvite.member_id == member.id)).first()
        if exists is None:
            ctx.session.add(MeetingInvite(meeting_id=meeting.id, member_id=member.id,  # type: ignore[arg-type]
                                          invited_by=ctx.actor.id if ctx.actor else None, invited_at=ctx.now()))
            ctx.session.flush()
        build_agenda(ctx.svc, ctx.session, meeting, ctx.now())  # the snapshot an ad hoc participant may see
    series = series_of(ctx.session, meeting)
    when = f"{weekday(ctx.lang, meeting.starts_at, ctx.tz)} {when_text(ctx, meeting)}"
    ctx.send_dm(member.user_id, Reply(
        text=ctx.t("meeting.invite_dm", ref=meeting.ref, when=when, name=title(ctx.lang, meeting, series)),
        attachments=[meeting_invitation(ctx.svc, ctx.session, meeting, ctx.now())]))
    ctx.audit("meeting.invite", detail={"meeting": meeting.ref, "user": member.user_id, "org": member.org})
    return Reply(text=ctx.t("meeting.invited", user=markup.mention(member), ref=meeting.ref))


@command("meeting cancel", "meeting cancel M-…", access.LEADS)
def meeting_cancel(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set(), words=1)
    meeting = meeting_by_ref(ctx, args.words[0] if args.words else None)
    require_open(ctx, meeting)
    entries = minutes_book.decisions(ctx, meeting)
    if entries:  # decisions are never lost: they stay on the cases, and those with a date become follow-ups
        dated = sum(1 for entry, _case in entries if entry.due_at is not None and entry.followup_id is None)
        refs = ", ".join(dict.fromkeys(case.ref for _entry, case in entries))
        question = confirm.ask(ctx, f"cancel|{meeting.ref}|{meeting.sequence}|{len(entries)}|{dated}", [
            ctx.tn("cancel.confirm_decisions", len(entries), ref=meeting.ref, refs=refs),
            ctx.tn("cancel.confirm_followups", dated) if dated else ctx.t("cancel.confirm_no_followups"),
            ctx.t("cancel.confirm_kept", ref=meeting.ref)], ctx.t("cancel.confirm_button"), danger=True)
        if question is not None:
            return question
        made = minutes_book.decisions_to_followups(ctx, meeting, entries)
    meeting.state, meeting.sequence = "cancelled", meeting.sequence + 1
    ctx.session.add(meeting)
    series = series_of(ctx.session, meeting)
    if series is not None:  # the series' event changes too: its calendars get the instance's CANCEL
        series.sequence += 1
        ctx.session.add(series)
    ctx.session.flush()
    when = f"{weekday(ctx.lang, meeting.starts_at, ctx.tz)} {when_text(ctx, meeting)}"
    cancellation = meeting_invitation(ctx.svc, ctx.session, meeting, ctx.now())
    in_series = (series_update(ctx.svc, ctx.session, series, ctx.now(), [meeting])[1] if series is not None
                 else cancellation)
    for member in participants(ctx.session, meeting):
        if member.user_id != ctx.inv.user_id:
            ctx.send_dm(member.user_id, Reply(text=ctx.t("meeting.cancel_dm", ref=meeting.ref, when=when),
                                              attachments=[in_series if is_fixed(member) else cancellation]))
    ctx.post_channel("unit", Reply(text=ctx.t("meeting.cancel_notice", ref=meeting.ref, when=when)))
    ctx.audit("meeting.cancel", detail={"meeting": meeting.ref, "decisions": len(entries)})
    text = ctx.t("meeting.cancelled", ref=meeting.ref, when=when)
    if entries and made:
        text += "\n" + ctx.tn("cancel.kept", made, ref=meeting.ref)
    elif entries:  # not "0 follow-ups were created"
        text += "\n" + ctx.t("cancel.kept_none", ref=meeting.ref)
    return Reply(text=text, attachments=[in_series])
