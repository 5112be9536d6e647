"""The answer to a subject access request (GDPR art. 15) as a letter a legal officer can send as it is: in the
requester's language, every category in words, what we hold and why, who received it and on what legal basis,
how long it is kept, and the person's rights — with the § 115 purpose footer beside the art. 15 text.

Nothing here is a code: states, severities, sources, orgs, offers and the audit log's actions are written in
words (`label`), people as their role and authority, never as a platform id."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlmodel import col, select

from commands import documents
from commands.cases import timeline
from commands.cases.erasure import retention_days
from commands.context import Ctx
from commands.documents import Document, Ours, Section, Table
from commands.messages import label, labels, org_name, t, tn
from commands.retention import recipients
from commands.time import timefmt
from storage import sealed
from storage.models import AuditEntry, Case, CaseEvent, Engagement, FollowUp, Member, MentorSession, Offer, Subject
from storage.pseudonym import format_pseudonym


# A timeline entry's values in words: which word list each key's value comes from (per event kind where it
# differs). Keys not listed (another person, a platform id, an internal number) are left out of the letter.
class Letter:
    """The words and the unit's formats in the requester's language `lang`."""

    def __init__(self, ctx: Ctx, lang: str) -> None:
        self.ctx, self.lang = ctx, lang
        self.profile = ctx.profile
        self._members: dict[str, Member | None] = {}

    def t(self, key: str, /, **kw: object) -> str:
        return t(self.lang, key, **kw)

    def tn(self, key: str, n: int, /, **kw: object) -> str:
        return tn(self.lang, key, n, **kw)

    def word(self, kind: str, code: object) -> str:
        if kind == "org":
            return org_name(self.lang, code, self.profile)
        return label(self.lang, kind, code)

    def when(self, instant: datetime | None) -> str:
        return "—" if instant is None else timefmt.when(self.ctx.local(instant), self.lang)

    def day(self, instant: datetime | None) -> str:
        return "—" if instant is None else timefmt.day(self.ctx.local(instant), self.lang)

    def unit(self) -> str:
        title = self.profile.title
        return title.get(self.lang) if title is not None else self.t("letter.unit")

    def who(self, user_id: str) -> str:
        """A member as the letter names them: their role and authority (a person's platform id is no word)."""
        if user_id not in self._members:
            self._members[user_id] = self.ctx.session.exec(select(Member).where(Member.user_id == user_id)).first()
        member = self._members[user_id]
        if member is None:
            return self.t("letter.who.system")
        return self.t("letter.who", role=self.word("role", member.role), org=self.word("org", member.org))


def _event(w: Letter, event: CaseEvent) -> str:
    data = json.loads(event.data)
    what = _first_up(w.word("event", event.kind))
    if event.kind == "state" and data.get("from") and data.get("to"):  # the commonest line, said as a sentence
        what = w.t("letter.state_change", old=w.word("state", data.pop("from")), new=w.word("state", data.pop("to")))
    details = []
    for key, value in sorted(data.items()):
        kind = timeline.value_kind(event.kind, key)  # the same words as the case's timeline in chat
        internal = key in ("linked", "deadline_met") or (event.kind == "step" and key == "state")
        if value is None or kind is None or internal:
            continue
        details.append(w.t("letter.detail", name=w.word("event_key", key), value=w.word(kind, value)))
    return w.t("letter.event", when=w.when(event.at), what=what,
               details=w.t("letter.details", details=", ".join(details)) if details else "")


def _facts(w: Letter, subject: Subject, case: Case, others: int) -> Table:
    closed = (w.t("letter.closed", day=w.day(case.closed_at), reason=w.word("close_reason", case.close_reason))
              if case.closed_at is not None else w.t("letter.open"))
    rows = [
        (w.t("letter.fact.state"), w.word("state", case.state)),
        (w.t("letter.fact.received"), w.when(case.received_at)),
        (w.t("letter.fact.source"), w.word("source", case.source)),
        (w.t("letter.fact.track"), w.word("track", case.track)),
        (w.t("letter.fact.severity"), w.word("severity", case.severity)),
        (w.t("letter.fact.level"), w.word("level", case.level) if case.level else w.t("letter.not_set")),
        (w.t("letter.fact.district"), case.district or w.t("letter.not_set")),
        (w.t("letter.fact.indicators"), labels(w.lang, "indicator", case.indicators) if case.indicators
         else w.t("letter.none_registered")),
        (w.t("letter.fact.basis"), recipients.basis_name(w.lang, case.basis, w.profile)),
        (w.t("letter.fact.age"), w.word("age", subject.age_band)),
        (w.t("letter.fact.closed"), closed),
        (w.t("letter.fact.others"), w.tn("letter.n.others", others) if others else w.t("letter.no_others")),
    ]
    return Table([w.t("letter.col.what"), w.t("letter.col.registered")], [[k, _first_up(v)] for k, v in rows],
                 (0.32, 0.68))


def _first_up(text: str) -> str:
    return text[:1].upper() + text[1:]


def _offers(w: Letter, subject: Subject) -> list[str]:
    ctx = w.ctx
    lines = []
    for o in ctx.session.exec(select(Offer).where(Offer.subject_id == subject.id).order_by(col(Offer.id))):
        answer = (w.t("letter.offer.answered", state=w.word("offer_state", o.state), day=w.day(o.responded_at))
                  if o.responded_at is not None else w.word("offer_state", o.state))
        lines.append(w.t("letter.offer", kind=w.word("offer_kind", o.kind), day=w.day(o.offered_at), answer=answer)
                     + (" " + w.t("letter.offer.consent") if o.consent else ""))
    for g in ctx.session.exec(select(Engagement).where(Engagement.subject_id == subject.id)
                              .order_by(col(Engagement.id))):
        end = w.t("letter.course.ended", day=w.day(g.ended_at)) if g.ended_at else w.t("letter.course.running")
        lines.append(w.t("letter.course", kind=_first_up(w.word("offer_kind", g.kind)), day=w.day(g.started_at),
                         end=end))
    return lines


def _notes(w: Letter, subject: Subject) -> list[str]:
    ctx = w.ctx
    lines = []
    engagements = [g.id for g in ctx.session.exec(select(Engagement).where(Engagement.subject_id == subject.id))]
    for s in ctx.session.exec(select(MentorSession).where(col(MentorSession.engagement_id).in_(engagements))
                              .order_by(col(MentorSession.held_at))):
        lines.append(w.t("letter.mentor_note", when=w.day(s.held_at),
                         text=ctx.decrypt(s.note_ct, s.note_kid, sealed.MENTOR_NOTE.label)))
    for f in ctx.session.exec(select(FollowUp).where(FollowUp.subject_id == subject.id).order_by(col(FollowUp.id))):
        text = ctx.decrypt(f.text_ct, f.text_kid, sealed.FOLLOWUP_TEXT.label)
        lines.append(w.t("letter.followup", kind=_first_up(w.word("followup_kind", f.kind)), day=w.day(f.due_at),
                         state=w.word("followup_state", f.state)) + (f": {text}" if text else ""))
    return lines


def _seen(w: Letter, case: Case) -> list[str]:
    lines = []
    for e in w.ctx.session.exec(select(AuditEntry).where(AuditEntry.case_ref == case.ref).order_by(col(AuditEntry.id))):
        action = label(w.lang, "audit_action", e.action)
        if action == e.action:  # an action the word list does not know yet: said in general words, not as a code
            action = w.t("letter.audit.other")
        if e.result != "ok":
            action = w.t("letter.audit.refused", action=action)
        lines.append(w.t("letter.seen", when=w.when(e.at), who=w.who(e.actor), action=action))
    return lines


def case_sections(w: Letter, subject: Subject, case: Case) -> list[Section]:
    ctx = w.ctx
    people = list(ctx.session.exec(select(Subject.pseudonym).where(Subject.case_id == case.id)))
    others = {p for p in people if p != subject.pseudonym}
    texts = [w.t("letter.summary", text=ctx.decrypt(case.summary_ct, case.summary_kid, sealed.CASE_SUMMARY.label))]
    timeline = []
    for event in ctx.session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id))):
        about = json.loads(event.data).get("subject")
        if about in others:
            continue  # another person's offer, course or note
        timeline.append(_event(w, event))
        text = ctx.decrypt(event.text_ct, event.text_kid, sealed.EVENT_TEXT.label)
        if text:
            texts.append(w.t("letter.text", when=w.day(event.at), what=w.word("event", event.kind), text=text))
    shared = recipients.recipients(ctx.session, case, subject)
    given = Table([w.t("letter.col.recipient"), w.t("letter.col.when"), w.t("letter.col.disclosed"),
                   w.t("letter.col.basis")],
                  [recipients.row(w.lang, r, w.profile, w.day(r.at)) for r in shared], (0.24, 0.16, 0.3, 0.3))
    sub = 3
    return [
        Section(w.t("letter.case", ref=case.ref), paragraphs=[w.t("letter.case_intro", ref=case.ref)]),
        Section(w.t("letter.h.facts"), table=_facts(w, subject, case, len(others)), level=sub),
        Section(w.t("letter.h.texts"), texts, paragraphs=[w.t("letter.texts_intro")], level=sub),
        Section(w.t("letter.h.timeline"), timeline, level=sub, empty=w.t("letter.nothing")),
        Section(w.t("letter.h.offers"), _offers(w, subject), level=sub, empty=w.t("letter.no_offers")),
        Section(w.t("letter.h.notes"), _notes(w, subject), level=sub, empty=w.t("letter.no_notes")),
        Section(w.t("letter.h.recipients"), table=given, level=sub, empty=w.t("letter.no_recipients"),
                paragraphs=[w.t("letter.recipients_intro")] if shared else []),
        Section(w.t("letter.h.seen"), _seen(w, case), level=sub, empty=w.t("letter.nothing")),
    ]


def _retention(w: Letter, cases: list[Case]) -> list[str]:
    settings = w.ctx.settings
    lines = []
    for case in cases:
        if case.closed_at is None:
            lines.append(w.t("letter.keep.open", ref=case.ref))
        elif case.hold_at is not None:
            lines.append(w.t("letter.keep.hold", ref=case.ref, day=w.day(case.closed_at)))
        else:
            due = w.ctx.local(case.closed_at) + timedelta(days=retention_days(w.ctx.svc, case))
            lines.append(w.t("letter.keep.closed", ref=case.ref, day=w.day(case.closed_at),
                             erased=timefmt.day(due, w.lang)))
    return [w.t("letter.keep.rule", days=_period(w, settings.retention_days),
                unfounded=_period(w, settings.retention_days_unfounded)), *lines]


def _period(w: Letter, days: int) -> str:
    """A storage period as a person says it: `2 år` for 730 days, else in days."""
    return w.tn("letter.n.years", days // 365) if days % 365 == 0 else w.tn("letter.n.days", days)


def letter(ctx: Ctx, lang: str, pseudonym: str, found: list[tuple[Subject, Case]]) -> Document:
    w = Letter(ctx, lang)
    cases = list({c.ref: c for _s, c in found}.values())
    refs = ", ".join(c.ref for c in cases)
    bases = list(dict.fromkeys(recipients.basis_name(lang, c.basis, ctx.profile) for c in cases))
    partners = [org.name.get(lang) for org in ctx.profile.orgs if org.participant == "fixed" and not org.archived]
    footer = documents.footer_text(lang, ctx.profile) + " " + w.t("letter.footer")
    doc = Document(w.t("letter.title"), footer, [
        w.t("letter.meta.date", day=timefmt.long_day(ctx.local(ctx.now()), lang)),
        w.t("letter.meta.from", unit=w.unit()),
        w.t("letter.meta.ref", subject=format_pseudonym(pseudonym), refs=refs)],
        pages=documents.page_text(lang), lang=lang, empty=w.t("letter.nothing"))
    doc.sections += [
        Section("", paragraphs=[w.t("letter.opening", unit=w.unit()),
                                w.tn("letter.n.cases", len(cases), refs=refs)]),
        Section(w.t("letter.h.purpose"), paragraphs=[
            w.t("letter.purpose"), w.t("letter.basis", bases=", ".join(bases)),
            w.t("letter.partners", partners=", ".join(partners)), w.t("letter.no_automated")]),
    ]
    for subject, case in found:
        doc.sections += case_sections(w, subject, case)
    doc.sections += [
        Section(w.t("letter.h.keep"), paragraphs=_retention(w, cases)),
        Section(w.t("letter.h.rights"), paragraphs=[w.t("letter.rights.correct"), w.t("letter.rights.erase"),
                                                    w.t("letter.rights.others"), Ours(w.t("letter.rights.complain"))]),
        Section("", paragraphs=["", w.t("letter.closing"), w.unit()]),
    ]
    return doc
