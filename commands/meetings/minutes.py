"""Minutes: decisions recorded per case during a meeting; `meeting close` compiles them.

A decision is free text: the router has already refused identifiers in the command, and the text is
stored encrypted. The unit channel learns only which cases got how many decisions and when they are due;
the text itself is shown privately (the closer's reply, `minutes show`, the follow-up DM).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select

from commands import access, documents
from commands.cases.record import add_event
from commands.confirm import bare_command
from commands.context import Ctx
from commands.errors import UsageError
from commands.followups import rules
from commands.meetings import published, run
from commands.meetings.meeting import meeting_by_ref, require_open, series_of, title, when_text, which_meeting
from commands.members.people import member_by_ref
from commands.parsing import due_datetime, only_options, yes_no
from commands.registry import case_command, command
from commands.reply import Reply
from commands.time import timefmt
from commands.tokenizer import Args
from storage import sealed
from storage.models import Case, Meeting, Member, MinuteEntry

Compiled = tuple[documents.Document, list[str]]  # the files' document, and the chat text's lines beside it
TEXT_LIMIT = 2000
EARLY = timedelta(hours=2)  # minutes may be taken from shortly before the start …
LATE = timedelta(hours=12)  # … until some hours after the end, without naming the meeting


def current_meetings(ctx: Ctx) -> list[Meeting]:
    """The meetings minutes may be taken for without naming one: from EARLY before the start until LATE after
    the end."""
    stmt = (select(Meeting).where(Meeting.state == "scheduled", col(Meeting.starts_at) <= ctx.now() + EARLY,
                                  col(Meeting.ends_at) >= ctx.now() - LATE)
            .order_by(col(Meeting.starts_at), col(Meeting.id)))
    return list(ctx.session.exec(stmt))


@case_command("minutes", 'minutes KE-… "decision" [due=…] [owner=@user] [followup=yes|no] [meeting=M-…]', access.STAFF)
def minutes(ctx: Ctx, args: Args, case: Case) -> Reply:
    only_options(args, {"due", "meeting", "owner", "followup"}, texts=1)
    text = args.texts[0].strip() if args.texts else ""
    if not text:
        raise UsageError("missing_text")
    if len(text) > TEXT_LIMIT:
        raise UsageError("too_long", option="text", limit=TEXT_LIMIT)
    if "meeting" in args.options:
        meeting = meeting_by_ref(ctx, args.options["meeting"])
        require_open(ctx, meeting)
    else:
        found = current_meetings(ctx)
        if not found:
            raise UsageError("no_current_meeting")
        in_slot = [m for m in found if m.starts_at <= ctx.now() <= m.ends_at]
        if len(in_slot) == 1:
            found = in_slot  # the one meeting going on right now
        if len(found) > 1:  # two overlap, or it is between two: never a silent pick
            return which_meeting(ctx, found, bare_command(ctx.inv.text) + " meeting={ref}")
        meeting = found[0]
    due = None
    if "due" in args.options:
        due = due_datetime(args.options["due"], ctx.tz, ctx.now(), "due")
        if due <= ctx.now():
            raise UsageError("due_past")
    owner = member_by_ref(ctx, args.options["owner"], "owner") if args.options.get("owner") else None
    makes_followup = yes_no(args.options.get("followup"), "followup")
    if makes_followup and due is None:  # "make a follow-up" asks for its date
        raise UsageError("followup_needs_due", option="due")
    ct, kid = ctx.encrypt(text, sealed.MINUTES_TEXT.label)
    entry = MinuteEntry(meeting_id=meeting.id, case_id=case.id, text_ct=ct, text_kid=kid, due_at=due,  # type: ignore[arg-type]
                        author_id=ctx.actor.id if ctx.actor else None, created_at=ctx.now(),
                        owner_id=owner.id if owner else None, makes_followup=makes_followup is not False)
    ctx.session.add(entry)
    add_event(ctx, case, "decision", {"meeting": meeting.ref, "due": ctx.fmt(due) if due else None}, text=text)
    ctx.audit("minutes.add", case_ref=case.ref, detail={"meeting": meeting.ref, "due": due is not None})
    key = "minutes.recorded_due" if due else "minutes.recorded"
    return Reply(text=ctx.t(key, ref=case.ref, meeting=meeting.ref, due=ctx.fmt(due)))


def decisions_to_followups(ctx: Ctx, meeting: Meeting, entries: list[tuple[MinuteEntry, Case]]) -> int:
    """Each decision with a date becomes a follow-up (once; not when the meeting chose none) for the decision's
    owner, else the case's, else its author; how many were made."""
    made = 0
    for entry, case in entries:
        if entry.due_at is None or entry.followup_id is not None or not entry.makes_followup:
            continue
        text = ctx.decrypt(entry.text_ct, entry.text_kid, sealed.MINUTES_TEXT.label)
        ct, kid = ctx.encrypt(text, sealed.FOLLOWUP_TEXT.label)
        followup = rules.add_custom(ctx.session, case, entry.owner_id or case.owner_id or entry.author_id,
                                    entry.due_at, ct, kid, ctx.now())
        entry.followup_id = followup.id
        ctx.session.add(entry)
        add_event(ctx, case, "followup", {"id": followup.id, "kind": "custom", "meeting": meeting.ref})
        made += 1
    return made


def decisions(ctx: Ctx, meeting: Meeting) -> list[tuple[MinuteEntry, Case]]:
    stmt = (select(MinuteEntry, Case).join(Case, col(Case.id) == col(MinuteEntry.case_id))
            .where(MinuteEntry.meeting_id == meeting.id).order_by(col(Case.ref), col(MinuteEntry.id)))
    return list(ctx.session.exec(stmt))


def _document(ctx: Ctx, meeting: Meeting, entries: list[tuple[MinuteEntry, Case]]) -> Compiled:
    """The files: a table of the decisions (case, decision, follow-up due, follow-up) and the follow-ups in
    the order they fall due. The chat text beside it: one heading per case with its decisions."""
    series = series_of(ctx.session, meeting)
    start = ctx.local(meeting.starts_at)
    doc = documents.Document(title=ctx.t("minutes.title", ref=meeting.ref, when=ctx.fmt(meeting.starts_at)),
                           heading=ctx.t("minutes.doc_title", day=timefmt.long_day(start, ctx.lang),
                                         clock=timefmt.clock(start, ctx.lang)),
                           footer=documents.footer_text(ctx.lang, ctx.profile),
                           meta=[ctx.t("minutes.meta", name=title(ctx.lang, meeting, series), ref=meeting.ref,
                                       when=when_text(ctx, meeting),
                                       decisions=ctx.tn("n.decisions", len(entries)),
                                       closed=ctx.fmt(meeting.closed_at))],
                           pages=documents.page_text(ctx.lang), lang=ctx.lang, empty=ctx.t("none"))
    doc.meta.append(run.attendance_line(ctx, meeting))  # who was present, by org (from the checklist)
    outcomes = run.outcome_lines(ctx, meeting)  # postponed and unchanged cases
    done = [documents.Section(ctx.t("run.outcomes"), outcomes)] if outcomes else []
    done_chat = ["", f"*{ctx.t('run.outcomes')}*", *(f"• {line}" for line in outcomes)] if outcomes else []
    by_case: dict[str, list[str]] = {}
    decisions: list[list[str]] = []
    followups: list[tuple[datetime, list[str]]] = []
    for entry, case in entries:
        text = ctx.decrypt(entry.text_ct, entry.text_kid, sealed.MINUTES_TEXT.label)
        owner = ctx.session.get(Member, entry.owner_id) if entry.owner_id else None
        if owner is not None:  # who carries the decision out (and gets its follow-up)
            text += " — " + ctx.t("minutes.owner", name=owner.display_name or owner.user_id)
        number = f"F-{entry.followup_id}" if entry.followup_id else (None if entry.makes_followup else "—")
        line = text
        if entry.due_at is not None:
            line += " — " + ctx.t("minutes.due", due=ctx.fmt(entry.due_at), followup=number or "—")
            followups.append((entry.due_at, [ctx.fmt(entry.due_at), case.ref,
                                             number or ctx.t("minutes.followup_pending"), text]))
        by_case.setdefault(case.ref, []).append(line)
        decisions.append([case.ref, text, ctx.fmt(entry.due_at) if entry.due_at else "—",
                          (number or ctx.t("minutes.followup_pending")) if entry.due_at else "—"])
    chat: list[str] = []
    for ref, lines in by_case.items():
        chat += ["", f"*{ref}*"] + [f"• {line}" for line in lines]
    if not entries:
        doc.sections = [documents.Section(ctx.t("minutes.decisions", count=0), empty=ctx.t("minutes.none")), *done]
        return doc, ["", f"*{ctx.t('minutes.none')}*", *done_chat]
    col = {key: ctx.t(f"minutes.col.{key}") for key in ("ref", "decision", "due", "followup")}
    doc.sections = [
        documents.Section(ctx.t("minutes.decisions", count=len(decisions)), [],
                        documents.Table([col["ref"], col["decision"], col["due"], col["followup"]], decisions,
                                      (0.14, 0.54, 0.19, 0.13))),
        documents.Section(ctx.t("minutes.followups", count=len(followups)), [], empty=ctx.t("minutes.no_followups"),
                          table=documents.Table([col["due"], col["ref"], col["followup"], col["decision"]],
                                      [row for _due, row in sorted(followups, key=lambda f: f[0])],
                                      (0.19, 0.14, 0.13, 0.54))), *done]
    return doc, chat + done_chat


def _summary(ctx: Ctx, entries: list[tuple[MinuteEntry, Case]]) -> list[str]:
    """What the channel may see: references, counts and due dates — never the decisions."""
    counts: dict[str, list[MinuteEntry]] = {}
    for entry, case in entries:
        counts.setdefault(case.ref, []).append(entry)
    lines = []
    for ref, rows in counts.items():
        dues = sorted(ctx.fmt(e.due_at) for e in rows if e.due_at is not None)
        lines.append(ctx.t("minutes.summary_line_n", ref=ref, decisions=ctx.tn("n.decisions", len(rows)),
                           due=", ".join(dues) if dues else ctx.t("none")))
    return lines


@command("meeting close", "meeting close M-…", access.LEADS)
def meeting_close(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set(), words=1)
    meeting = meeting_by_ref(ctx, args.words[0] if args.words else None)
    require_open(ctx, meeting)
    if meeting.starts_at > ctx.now() + EARLY:
        raise UsageError("meeting_not_started", ref=meeting.ref, when=when_text(ctx, meeting))
    entries = decisions(ctx, meeting)
    followups = decisions_to_followups(ctx, meeting, entries)
    meeting.state, meeting.closed_at = "closed", ctx.now()
    ctx.session.add(meeting)
    ctx.session.flush()
    summary = _summary(ctx, entries)
    ctx.post_channel("unit", Reply(title=ctx.t("minutes.channel_title", ref=meeting.ref),
                                   text="\n".join(summary) or ctx.t("minutes.none")))
    ctx.audit("meeting.close", detail={"meeting": meeting.ref, "decisions": len(entries), "followups": followups})
    reply = _private_reply(ctx, _document(ctx, meeting, entries), meeting.ref)
    published.freeze(ctx.svc, ctx.session, meeting, "minutes", reply.text, reply.attachments,
                     [case.ref for _entry, case in entries], ctx.now(), ctx.actor.id if ctx.actor else None)
    reply.text = ctx.t("minutes.closed_n", ref=meeting.ref, decisions=ctx.tn("n.decisions", len(entries)),
                       followups=ctx.tn("n.followups", followups)) + "\n\n" + reply.text
    return reply


def _private_reply(ctx: Ctx, compiled: Compiled, ref: str) -> Reply:
    doc, chat = compiled
    return Reply(title=doc.title, text="\n".join([*doc.meta, *chat]),
                 attachments=documents.attachments(doc, f"minutes-{ref}"))


@command("minutes show", "minutes show M-…", access.LEADS)
def minutes_show(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set(), words=1)
    meeting = meeting_by_ref(ctx, args.words[0] if args.words else None)
    frozen = published.latest(ctx.svc, ctx.session, meeting, "minutes")
    if frozen is not None:  # closed: the minutes as compiled then, not rebuilt
        ctx.audit("minutes.view", detail={"meeting": meeting.ref, "version": frozen.version})
        return Reply(title=ctx.t("minutes.title", ref=meeting.ref, when=ctx.fmt(meeting.starts_at)),
                     text=ctx.t("minutes.frozen", when=ctx.fmt(frozen.published_at)) + "\n\n" + frozen.text,
                     attachments=published.frozen_attachments(frozen, f"minutes-{meeting.ref}"))
    entries = decisions(ctx, meeting)
    ctx.audit("minutes.view", detail={"meeting": meeting.ref, "decisions": len(entries)})
    return _private_reply(ctx, _document(ctx, meeting, entries), meeting.ref)
