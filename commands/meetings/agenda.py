"""Agendas: preview, secretariat edits (add, remove, move), hold and publish; the worker's draft and publish.

The agenda is rebuilt from the open cases each time it is shown or sent, and the secretariat's edits are
stored apart from it (AgendaEdit), so they survive every rebuild. The latest build is kept as a snapshot
(AgendaItem): it is what an invited ad hoc participant may open. Everything here is categorical — it goes
to the unit channel as it is.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert
from sqlmodel import Session, select

from commands import access, documents
from commands.confirm import bare_command
from commands.context import Ctx, Services
from commands.errors import Refused, UsageError
from commands.meetings import published
from commands.meetings.agenda_build import SECTIONS, Agenda, Item, LateStep
from commands.meetings.agenda_family import disclosure_lines, family_person
from commands.meetings.agenda_load import build_for
from commands.meetings.meeting import (
    is_fixed,
    meeting_by_ref,
    next_meeting,
    overlapping,
    require_open,
    series_of,
    takes_part,
    title,
    topic_of,
    when_text,
    which_meeting,
)
from commands.messages import label, org_name, t, tn
from commands.parsing import case_ref, only_options
from commands.registry import command
from commands.reply import Button, Reply
from commands.time import timefmt
from commands.tokenizer import Args
from storage import outbox
from storage.enums import OPEN_STATES, Role
from storage.models import AgendaEdit, AgendaItem, Case, Meeting
from storage.profile import Profile
from storage.profile import store as profile_store
from storage.pseudonym import format_pseudonym

CHANNEL_ITEMS_PER_SECTION = 25


def build_agenda(svc: Services, session: Session, meeting: Meeting, now: datetime, *, persist: bool = True) -> Agenda:
    agenda = build_for(session, meeting, now, svc.settings.review_days, svc.settings.offer_pending_days,
                       profile_store.profile(session, svc.settings))
    if persist:
        _snapshot(session, meeting, agenda)
    return agenda


def _snapshot(session: Session, meeting: Meeting, agenda: Agenda) -> None:
    """Two statements whatever the size: a delete and one executemany insert."""
    session.exec(delete(AgendaItem).where(AgendaItem.meeting_id == meeting.id))  # type: ignore[call-overload]
    rows = [{"meeting_id": meeting.id, "case_id": item.case.id, "section": item.section, "position": n,
             "reason": item.reason} for section in SECTIONS for n, item in enumerate(agenda.sections[section], 1)]
    if rows:
        session.execute(insert(AgendaItem), rows)


# Rendering ------------------------------------------------------------------------------------------------

def _fmt(instant: datetime, tz: ZoneInfo, lang: str) -> str:
    return timefmt.when(instant.astimezone(tz), lang)


def _deadline(lang: str, tz: ZoneInfo, item: Item, now: datetime) -> str:
    due = item.next_deadline
    if due is None:
        return t(lang, "agenda.no_deadline")
    if item.case.state not in ("new", "qualifying"):
        return t(lang, "agenda.next_followup", due=_fmt(due, tz, lang))
    key = "deadline.overdue_by" if due < now else "deadline.left_for"
    return t(lang, "agenda.visitation", text=t(lang, key, deadline=_fmt(due, tz, lang),
                                              duration=timefmt.duration(due - now, lang)))


def _cells(lang: str, tz: ZoneInfo, item: Item, now: datetime, review_days: int,
           profile: Profile | None = None) -> dict[str, str]:
    """One case on the agenda in the reader's words: the chat line and the documents' table row both read it."""
    c = item.case
    reason = t(lang, f"agenda.reason.{item.reason}", days=tn(lang, "n.days", review_days))
    subjects = ", ".join(format_pseudonym(p) for p in c.pseudonyms) or "—"
    tracks = label(lang, "track", c.track)
    if c.persons:  # a family: one item, each person with their own track, age group and relation
        subjects = ", ".join(family_person(lang, p, c.track) for p in c.persons)
        tracks = ", ".join(label(lang, "track", x) for x in dict.fromkeys(p.track or c.track for p in c.persons))
    return {"ref": c.ref, "subjects": subjects,
            "track": tracks, "ages": ", ".join(label(lang, "age", a) for a in c.ages) or "—",
            "severity": label(lang, "severity", c.severity), "state": label(lang, "state", c.state),
            "org": org_name(lang, c.responsible_org, profile), "days": str(max(0, (now - c.received_at).days)),
            "deadline": _deadline(lang, tz, item, now),
            "reason": reason + (" " + t(lang, "agenda.added_mark") if item.added else "")}


def item_line(lang: str, tz: ZoneInfo, item: Item, now: datetime, review_days: int = 28,
              profile: Profile | None = None) -> str:
    return t(lang, "agenda.item", **_cells(lang, tz, item, now, review_days, profile))


# The documents' case table: its columns and their shares of a landscape A4 page.
COLUMNS = (("ref", 0.085), ("subjects", 0.12), ("track", 0.115), ("ages", 0.065), ("severity", 0.06),
           ("state", 0.075), ("org", 0.1), ("days", 0.05), ("deadline", 0.19), ("reason", 0.14))


def _table(lang: str, tz: ZoneInfo, items: list[Item], now: datetime, review_days: int,
           profile: Profile | None = None) -> documents.Table:
    rows = []
    for item in items:
        cells = _cells(lang, tz, item, now, review_days, profile)
        for key in ("subjects", "ages"):  # one person a line, so each age stands beside its pseudonym on paper
            cells[key] = cells[key].replace(", ", ",\n")
        rows.append([cells[key] for key, _ in COLUMNS])
    return documents.Table([t(lang, f"agenda.col.{key}") for key, _ in COLUMNS], rows, tuple(w for _, w in COLUMNS))


STEP_ROLES = ("owner", "secretariat", "mentor")


def late_step_line(lang: str, tz: ZoneInfo, ref: str, step: LateStep, now: datetime,
                   profile: Profile | None = None) -> str:
    """A late step as the agenda shows it: the profile's title, who is responsible (a role or an org) and to
    whom it is assigned as a role and an org — never a person — and how late, in local calendar days
    (hours on the due day itself)."""
    responsible = (t(lang, f"agenda.step_role.{step.responsible}") if step.responsible in STEP_ROLES
                   else org_name(lang, step.responsible, profile))
    assignee = (t(lang, "agenda.step_assignee", role=label(lang, "role", step.assignee_role),
                  org=org_name(lang, step.assignee_org, profile)) if step.assignee_org is not None
                else t(lang, "agenda.step_unassigned"))
    due, at = step.due_at.astimezone(tz), now.astimezone(tz)
    days = (at.date() - due.date()).days
    late = (t(lang, "agenda.step_late", late=tn(lang, "n.days", days), due=timefmt.day(due, lang)) if days >= 1 else
            t(lang, "agenda.step_late", late=tn(lang, "n.hours", int((now - step.due_at).total_seconds() // 3600)),
              due=timefmt.when(due, lang)))
    return t(lang, "agenda.step_line", ref=ref, n=step.n, title=step.title(lang), responsible=responsible,
             assignee=assignee, late=late)


def _first_section(lang: str, tz: ZoneInfo, agenda: Agenda) -> list[str]:
    if not agenda.previous:
        return [t(lang, "agenda.s1.none")]
    lines = []
    for prev in agenda.previous:
        params = {"ref": prev.ref, "date": timefmt.day(prev.starts_at.astimezone(tz), lang),
                  "decisions": tn(lang, "n.decisions", prev.decisions)}
        lines.append(t(lang, "agenda.s1.line_n", **params) if prev.state == "closed"
                     else t(lang, "agenda.s1.open_n", **params))
    return lines


def document(svc: Services, session: Session, meeting: Meeting, agenda: Agenda, now: datetime) -> documents.Document:
    cal, profile = svc.calendar(session), profile_store.profile(session, svc.settings)
    lang, tz = cal.lang, cal.tz
    series = series_of(session, meeting)
    start = meeting.starts_at.astimezone(tz)
    doc = documents.Document(
        title=t(lang, "agenda.title", ref=meeting.ref, when=timefmt.when(start, lang)),
        heading=t(lang, "agenda.doc_title", day=timefmt.long_day(start, lang), clock=timefmt.clock(start, lang)),
        footer=documents.footer_text(lang, profile),
        meta=[t(lang, "agenda.meta", name=title(lang, meeting, series), ref=meeting.ref,
                when=timefmt.span(start, meeting.ends_at.astimezone(tz), lang),
                status=t(lang, f"agenda.status.{status(meeting)}"), built=_fmt(now, tz, lang))],
        pages=documents.page_text(lang), landscape=True, lang=lang, empty=t(lang, "none"))
    for section in SECTIONS:
        items = agenda.sections[section]
        heading = t(lang, f"agenda.s{section}", count=len(items))
        if section == 1:
            doc.sections.append(documents.Section(heading, _first_section(lang, tz, agenda)))
            continue
        rows = [item_line(lang, tz, item, now, svc.settings.review_days, profile) for item in items]
        doc.sections.append(documents.Section(heading, rows, _table(lang, tz, items, now, svc.settings.review_days,
                                                                    profile), empty=t(lang, "agenda.empty")))
        if section == 4 and agenda.late_steps:  # the review section's list of late procedure steps
            late = [late_step_line(lang, tz, item.case.ref, step, now, profile)
                    for item, steps in agenda.late_steps for step in steps]
            doc.sections.append(documents.Section(t(lang, "agenda.steps_late", count=len(late)), late))
    if shared := disclosure_lines(lang, agenda, profile):
        doc.sections.append(documents.Section(t(lang, "agenda.disclosures", count=len(shared)), shared))
    proposals = [t(lang, "agenda.proposal", org=org_name(lang, p.org, profile),
                   reason=t(lang, f"agenda.propose.{p.track}"),
                   refs=", ".join(p.refs[:5]) + (" …" if len(p.refs) > 5 else "")) for p in agenda.proposals]
    doc.sections.append(documents.Section(t(lang, "agenda.participants"), proposals,
                                          empty=t(lang, "agenda.no_proposals")))
    return doc


def status(meeting: Meeting) -> str:
    if meeting.published_at is not None:
        return "published"
    return "held" if meeting.held else ("draft_sent" if meeting.draft_sent_at is not None else "draft")


def to_reply(lang: str, doc: documents.Document, limit: int = CHANNEL_ITEMS_PER_SECTION) -> Reply:
    """Chat text: each section capped; the attachments carry the whole agenda."""
    lines = list(doc.meta)
    for heading, rows in doc.sections:
        lines += ["", f"*{heading}*"] + [f"• {r}" for r in rows[:limit]]
        if len(rows) > limit:
            lines.append(t(lang, "agenda.more", count=len(rows) - limit))
    return Reply(title=doc.title, text="\n".join(lines))


def _enqueue(svc: Services, session: Session, channel: str, reply: Reply, key: str | None) -> None:
    reply.private = False
    outbox.enqueue(session, clock=svc.clock, vault=svc.vault, target_kind="channel", target=channel,
                   payload=reply.to_json(), dedupe_key=key)


def send_draft(svc: Services, session: Session, meeting: Meeting, now: datetime) -> None:
    agenda = build_agenda(svc, session, meeting, now)
    doc = document(svc, session, meeting, agenda, now)
    reply = to_reply(svc.lang, doc)
    reply.text = t(svc.lang, "agenda.draft_intro", ref=meeting.ref) + "\n\n" + reply.text
    reply.attachments = documents.attachments(doc, f"agenda-{meeting.ref}", f"agenda {meeting.ref}")
    reply.buttons = [Button(t(svc.lang, "button.publish"), "agenda.publish", meeting.ref,
                            f"agenda publish {meeting.ref}", style="primary"),
                     Button(t(svc.lang, "button.hold"), "agenda.hold", meeting.ref, f"agenda hold {meeting.ref}")]
    _enqueue(svc, session, "secretariat", reply, f"agenda-draft:{meeting.ref}")
    meeting.draft_sent_at = now
    session.add(meeting)


def publish(svc: Services, session: Session, meeting: Meeting, now: datetime, *, automatic: bool,
            by: int | None = None) -> tuple[Agenda, int]:
    """Send the agenda to the unit channel and freeze it as sent (the next version); version 2 and later
    are announced as an updated agenda."""
    agenda = build_agenda(svc, session, meeting, now)
    meeting.published_at, meeting.held = now, False
    session.add(meeting)
    doc = document(svc, session, meeting, agenda, now)
    reply = to_reply(svc.lang, doc)
    reply.attachments = documents.attachments(doc, f"agenda-{meeting.ref}", f"agenda {meeting.ref}")
    version = published.freeze(svc, session, meeting, "agenda", reply.text, reply.attachments,
                               [item.case.ref for item in agenda.items()], now, by)
    if version > 1:
        reply.text = t(svc.lang, "agenda.republished", version=version) + "\n" + reply.text
    reply.buttons = buttons_for(svc.lang, meeting.ref, [item.case.ref for item in agenda.items()])
    key = f"agenda-publish:{meeting.ref}" if automatic else None
    _enqueue(svc, session, "unit", reply, key)
    return agenda, version


# Commands -------------------------------------------------------------------------------------------------

def _meeting_for_view(ctx: Ctx, word: str | None) -> Meeting | Reply:
    if word is None or word.lower() == "next":
        meeting = next_meeting(ctx)
        if meeting is None:
            raise UsageError("no_next_meeting")
        others = overlapping(ctx, meeting.starts_at, meeting.ends_at, exclude=meeting.id)
        if others:  # two meetings at once: which agenda is meant is the user's to say
            rest = " ".join(w for w in bare_command(ctx.inv.text).split()[1:] if w.lower() != "next")
            return which_meeting(ctx, [meeting, *others], " ".join(["agenda {ref}", rest]).strip())
        return meeting
    meeting = meeting_by_ref(ctx, word)
    if not takes_part(ctx.session, ctx.member, meeting):
        raise Refused("meeting", ref=meeting.ref)
    return meeting


@command("agenda", "agenda [next|M-…]", access.STAFF | {Role.adhoc})
def agenda_show(ctx: Ctx, args: Args) -> Reply:
    only_options(args, {"format"}, words=1)
    fmt = (args.options.get("format") or "").lower()
    if fmt not in ("", "md", "pdf"):
        raise UsageError("bad_choice", option="format", value=fmt, choices="md, pdf")
    meeting = _meeting_for_view(ctx, args.words[0] if args.words else None)
    if isinstance(meeting, Reply):
        return meeting  # which meeting?
    if not is_fixed(ctx.member):
        return _adhoc_view(ctx, meeting, fmt)
    agenda = build_agenda(ctx.svc, ctx.session, meeting, ctx.now(), persist=meeting.state == "scheduled")
    frozen = published.latest(ctx.svc, ctx.session, meeting, "agenda")
    if frozen is not None:
        return _published_view(ctx, meeting, agenda, frozen, fmt)
    doc = document(ctx.svc, ctx.session, meeting, agenda, ctx.now())
    reply = to_reply(ctx.lang, doc)
    if meeting.topic_ct is not None:  # free text: this reply is private, the channel copy never has it
        reply.text = ctx.t("meeting.topic", topic=topic_of(ctx, meeting)) + "\n" + reply.text
        reply.details = True  # on Teams: a dialog, not a chat message
    if fmt:
        reply.attachments = documents.attachments(doc, f"agenda-{meeting.ref}", f"agenda {meeting.ref}", (fmt,))
    ctx.audit("agenda.view", detail={"meeting": meeting.ref, "items": len(agenda.items())})
    return reply


def _adhoc_view(ctx: Ctx, meeting: Meeting, fmt: str) -> Reply:
    """An ad hoc participant sees the agenda as it was sent (the latest frozen version), never one rebuilt from
    today's data, and only until the meeting ends (held, closed or cancelled)."""
    if meeting.state != "scheduled" or meeting.ends_at <= ctx.now():
        raise Refused("meeting_over", ref=meeting.ref)
    frozen = published.latest(ctx.svc, ctx.session, meeting, "agenda")
    if frozen is None:
        raise Refused("agenda_unsent", ref=meeting.ref)
    head = ctx.t("agenda.frozen", version=frozen.version, when=ctx.fmt(frozen.published_at))
    reply = Reply(title=t(ctx.lang, "agenda.title", ref=meeting.ref, when=ctx.fmt(meeting.starts_at)),
                  text=head + "\n\n" + frozen.text)
    if fmt:
        reply.attachments = [a for a in published.frozen_attachments(frozen, f"agenda-{meeting.ref}")
                             if a.filename.endswith("." + fmt)]
    ctx.audit("agenda.view", detail={"meeting": meeting.ref, "version": frozen.version})
    return reply


def _published_view(ctx: Ctx, meeting: Meeting, agenda: Agenda, frozen: published.Frozen, fmt: str) -> Reply:
    """The agenda as it was sent, untouched, and apart from it what a new publication would change."""
    now_refs = [item.case.ref for item in agenda.items()]
    added = [r for r in now_refs if r not in frozen.refs]
    dropped = [r for r in frozen.refs if r not in now_refs]
    since = [ctx.t("agenda.since_title")]
    if added:
        since.append(ctx.t("agenda.since_added", refs=", ".join(added)))
    if dropped:
        since.append(ctx.t("agenda.since_dropped", refs=", ".join(dropped)))
    if not added and not dropped:
        since = [ctx.t("agenda.since_none")]
    head = ctx.t("agenda.frozen", version=frozen.version, when=ctx.fmt(frozen.published_at))
    text = "\n\n".join([head, frozen.text, "\n".join(since)])
    if meeting.topic_ct is not None:
        text = ctx.t("meeting.topic", topic=topic_of(ctx, meeting)) + "\n" + text
    reply = Reply(title=t(ctx.lang, "agenda.title", ref=meeting.ref, when=ctx.fmt(meeting.starts_at)), text=text,
                  details=meeting.topic_ct is not None)  # a topic is free text: on Teams a dialog
    if fmt:
        reply.attachments = [a for a in published.frozen_attachments(frozen, f"agenda-{meeting.ref}",
                                                                      f"agenda {meeting.ref}")
                             if a.filename.endswith("." + fmt)]
    ctx.audit("agenda.view", detail={"meeting": meeting.ref, "version": frozen.version,
                                     "added": len(added), "dropped": len(dropped)})
    return reply


def _edit_target(ctx: Ctx, args: Args, options: set[str]) -> tuple[Meeting, Case, AgendaEdit | None]:
    only_options(args, options, words=2)
    meeting = meeting_by_ref(ctx, args.words[0] if args.words else None)
    require_open(ctx, meeting)
    ref = case_ref(args.words[1] if len(args.words) > 1 else None)
    case = ctx.session.exec(select(Case).where(Case.ref == ref)).first()
    if case is None:
        raise UsageError("unknown_case", ref=ref)
    edit = ctx.session.exec(select(AgendaEdit).where(AgendaEdit.meeting_id == meeting.id,
                                                     AgendaEdit.case_id == case.id)).first()
    return meeting, case, edit


def _number(args: Args, option: str, low: int, high: int) -> int | None:
    raw = args.options.get(option)
    if raw is None:
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise UsageError("bad_number", option=option, value=raw[:10], low=low, high=high)
    return int(raw)


def _save_edit(ctx: Ctx, meeting: Meeting, case: Case, edit: AgendaEdit | None, action: str,
               section: int | None, position: int | None) -> None:
    if edit is None:
        edit = AgendaEdit(meeting_id=meeting.id, case_id=case.id, action=action, at=ctx.now())  # type: ignore[arg-type]
    edit.action, edit.section, edit.position = action, section, position
    edit.actor_id, edit.at = ctx.actor.id if ctx.actor else None, ctx.now()
    ctx.session.add(edit)
    ctx.session.flush()
    build_agenda(ctx.svc, ctx.session, meeting, ctx.now())
    ctx.audit(f"agenda.{action}", case_ref=case.ref, detail={"meeting": meeting.ref, "section": section,
                                                              "position": position})


@command("agenda add", "agenda add M-… KE-…", access.LEADS)
def agenda_add(ctx: Ctx, args: Args) -> Reply:
    meeting, case, edit = _edit_target(ctx, args, {"section"})
    if case.state not in OPEN_STATES:
        raise UsageError("case_closed", ref=case.ref)
    section = _number(args, "section", 2, 7)
    _save_edit(ctx, meeting, case, edit, "add", section, edit.position if edit else None)
    return Reply(text=ctx.t("agenda.added", ref=case.ref, meeting=meeting.ref))


@command("agenda remove", "agenda remove M-… KE-…", access.LEADS)
def agenda_remove(ctx: Ctx, args: Args) -> Reply:
    meeting, case, edit = _edit_target(ctx, args, set())
    _save_edit(ctx, meeting, case, edit, "remove", None, None)
    return Reply(text=ctx.t("agenda.removed", ref=case.ref, meeting=meeting.ref))


@command("agenda move", "agenda move M-… KE-… position=N [section=2..7]", access.LEADS)
def agenda_move(ctx: Ctx, args: Args) -> Reply:
    meeting, case, edit = _edit_target(ctx, args, {"position", "section"})
    position = _number(args, "position", 1, 999)
    if position is None:
        raise UsageError("missing_option", option="position", choices="1, 2, 3 …")
    section = _number(args, "section", 2, 7)
    if edit is not None and edit.action == "remove":
        raise UsageError("agenda_removed", ref=case.ref, meeting=meeting.ref)
    action = edit.action if edit is not None else "move"
    _save_edit(ctx, meeting, case, edit, action, section if section else (edit.section if edit else None), position)
    return Reply(text=ctx.t("agenda.moved", ref=case.ref, meeting=meeting.ref, position=position))


@command("agenda hold", "agenda hold M-…", access.LEADS)
def agenda_hold(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set(), words=1)
    meeting = meeting_by_ref(ctx, args.words[0] if args.words else None)
    require_open(ctx, meeting)
    if meeting.published_at is not None:
        raise UsageError("agenda_published", ref=meeting.ref)
    meeting.held = True
    ctx.session.add(meeting)
    ctx.audit("agenda.hold", detail={"meeting": meeting.ref})
    return Reply(text=ctx.t("agenda.held", ref=meeting.ref))


@command("agenda publish", "agenda publish M-…", access.LEADS)
def agenda_publish(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set(), words=1)
    meeting = meeting_by_ref(ctx, args.words[0] if args.words else None)
    require_open(ctx, meeting)
    agenda, version = publish(ctx.svc, ctx.session, meeting, ctx.now(), automatic=False,
                              by=ctx.actor.id if ctx.actor else None)
    ctx.audit("agenda.publish", detail={"meeting": meeting.ref, "items": len(agenda.items()), "version": version})
    return Reply(text=ctx.t("agenda.published_n", ref=meeting.ref, items=ctx.tn("n.items", len(agenda.items())),
                            when=when_text(ctx, meeting)) + " " + ctx.t("agenda.version", version=version))


def buttons_for(lang: str, meeting_ref: str, refs: list[str]) -> list[Button]:
    """The published agenda's buttons: per case *Beslutning…*, *Udsæt*, *Ingen ændring*; then attendance and
    the secretariat's view of the run."""
    out: list[Button] = []
    for ref in refs:
        out += [Button(t(lang, "run.decide", ref=ref), "run.decide", ref, f"minutes {ref} {meeting_ref}",
                       style="primary"),
                Button(t(lang, "run.postpone", ref=ref), "run.postpone", ref, f"agenda postpone {meeting_ref} {ref}"),
                Button(t(lang, "run.unchanged", ref=ref), "run.unchanged", ref,
                       f"agenda unchanged {meeting_ref} {ref}")]
    out.append(Button(t(lang, "run.attendance"), "run.attendance", meeting_ref, f"meeting attendance {meeting_ref}"))
    out.append(Button(t(lang, "run.view"), "run.view", meeting_ref, f"meeting run {meeting_ref}"))
    return out
