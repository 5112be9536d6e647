"""Data subjects' rights (SPEC.md §6, admin): `subject export` (GDPR art. 15) and `subject erase` (art. 17).

Both start from a private form with the identifier, exactly like `concern lookup`: the identifier only yields
the keyed pseudonym and goes no further. A person registered without an identifier has a random pseudonym
and cannot be found this way (docs/privacy.md).
"""

from __future__ import annotations

import json

from sqlmodel import col, select

from commands import access, documents, messages
from commands.cases.concerns import identifier_errors, identifier_token
from commands.context import Ctx
from commands.parsing import only_options
from commands.registry import command, form
from commands.reply import Form, FormField, FormResult, Reply
from commands.retention import erase
from commands.retention.letter import letter
from commands.tokenizer import Args
from storage.models import Case, CaseEvent, Engagement, FollowUp, MentorSession, Subject
from storage.pseudonym import format_pseudonym, random_pseudonym

CONFIRM_WORD = "ERASE"
IDENTIFIER = frozenset({"identifier"})


def _form(ctx: Ctx, form_id: str, *, confirm: bool = False) -> Form:
    fields = [FormField("identifier", ctx.t("field.identifier"), "text", required=True,
                        hint=ctx.t("subject.hint.identifier"), never_stored=True),
              FormField("purpose", ctx.t("field.purpose"), "multiline", required=True,
                        hint=ctx.t("subject.hint.purpose"))]
    if not confirm:  # the answer goes to the requester: in their language
        langs = messages.LANGS
        fields.append(FormField("language", ctx.t("subject.field.language"), "select", langs,
                                hint=ctx.t("subject.hint.language"),
                                option_labels=tuple(messages.t(lang, "language.name") for lang in langs)))
    if confirm:
        fields.append(FormField("confirm", ctx.t("subject.field.confirm", word=CONFIRM_WORD), "text",
                                hint=ctx.t("subject.hint.confirm", word=CONFIRM_WORD)))
    return Form(form_id, ctx.t(f"subject.form.{form_id.split('.')[1]}"), tuple(fields),
                ctx.t("form.lookup_submit"))


@command("subject export", "subject export", access.ADMIN)
def export_form(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set())
    return Reply(text=ctx.t("subject.export.opened"), form=_form(ctx, "subject.export"))


@command("subject erase", "subject erase", access.ADMIN)
def erase_form(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set())
    return Reply(text=ctx.t("subject.erase.opened"), form=_form(ctx, "subject.erase", confirm=True))


def _checked(ctx: Ctx, values: dict[str, str]) -> tuple[str | None, dict[str, str]]:
    errors = identifier_errors(ctx, values, ["identifier"])
    if not (values.get("identifier") or "").strip():
        errors["identifier"] = ctx.t("form.required")
    if not (values.get("purpose") or "").strip():
        errors["purpose"] = ctx.t("form.required")
    if errors:
        return None, errors
    return identifier_token(ctx, values["identifier"], "subject.rights"), {}


def _subjects(ctx: Ctx, pseudonym: str) -> list[tuple[Subject, Case]]:
    return list(ctx.session.exec(select(Subject, Case).join(Case, col(Case.id) == col(Subject.case_id))
                                 .where(Subject.pseudonym == pseudonym).order_by(col(Case.ref), col(Subject.id))))


@form("subject.export", access.ADMIN, IDENTIFIER)
def submit_export(ctx: Ctx, values: dict[str, str], _context: dict[str, str]) -> FormResult:
    pseudonym, errors = _checked(ctx, values)
    if pseudonym is None:
        return FormResult(errors=errors)
    found = _subjects(ctx, pseudonym)
    ctx.audit("subject.export", result="found" if found else "not_found", purpose=values["purpose"].strip(),
              detail={"cases": len(found)})
    if not found:
        return FormResult(reply=Reply(text=ctx.t("subject.none")))
    lang = (values.get("language") or "").strip().lower()
    lang = lang if lang in messages.LANGS else ctx.lang
    doc = letter(ctx, lang, pseudonym, found)
    stem = "subject-access-" + ctx.local(ctx.now()).strftime("%Y%m%d-%H%M")
    return FormResult(reply=Reply(text=ctx.tn("subject.export.ready", len(found)),
                                  attachments=documents.attachments(doc, stem)))


def unlink(ctx: Ctx, subject: Subject, case: Case) -> dict[str, int]:
    """Forget a person in a case that also concerns others: the subject keeps its place in the case (so its
    anonymous counts and report facts stay) under a fresh random pseudonym that links to nobody; the person's
    own free text (mentor logs, follow-up texts) and the messages naming them are deleted."""
    old, new = subject.pseudonym, random_pseudonym()
    while ctx.session.exec(select(Subject.id).where(Subject.pseudonym == new)).first():
        new = random_pseudonym()
    needles = [old, format_pseudonym(old)]
    counts = {"mentor_logs": 0, "followup_texts": 0, "events": 0, "messages": 0}
    engagement_ids = list(ctx.session.exec(select(Engagement.id).where(Engagement.subject_id == subject.id)))
    for s in ctx.session.exec(select(MentorSession).where(col(MentorSession.engagement_id).in_(engagement_ids))):
        ctx.session.delete(s)
        counts["mentor_logs"] += 1
    for f in ctx.session.exec(select(FollowUp).where(FollowUp.subject_id == subject.id,
                                                     col(FollowUp.text_ct).is_not(None))):
        f.text_ct = f.text_kid = None
        ctx.session.add(f)
        counts["followup_texts"] += 1
    for event in ctx.session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)):
        data = json.loads(event.data)
        if data.get("subject") == old:
            data["subject"] = new
            event.data = json.dumps(data, sort_keys=True, ensure_ascii=False)
            ctx.session.add(event)
            counts["events"] += 1
    _files, counts["messages"] = erase.drop_messages(
        ctx.session, erase.outbox_rows(ctx.session, ctx.svc, subject.created_at, needles))
    subject.pseudonym, subject.linked, subject.possible_repeat = new, False, False
    ctx.session.add(subject)
    ctx.session.flush()
    return counts


@form("subject.erase", access.ADMIN, IDENTIFIER)
def submit_erase(ctx: Ctx, values: dict[str, str], _context: dict[str, str]) -> FormResult:
    pseudonym, errors = _checked(ctx, values)
    if pseudonym is None:
        return FormResult(errors=errors)
    found = _subjects(ctx, pseudonym)
    if not found:
        ctx.audit("subject.erase", result="not_found", purpose=values["purpose"].strip())
        return FormResult(reply=Reply(text=ctx.t("subject.none")))
    whole, shared = [], []
    for subject, case in found:
        everyone = set(ctx.session.exec(select(Subject.pseudonym).where(Subject.case_id == case.id)))
        (whole if everyone == {pseudonym} else shared).append((subject, case))
    whole_refs = list(dict.fromkeys(c.ref for _s, c in whole))
    shared_refs = list(dict.fromkeys(c.ref for _s, c in shared))
    if (values.get("confirm") or "").strip().upper() != CONFIRM_WORD:
        return FormResult(errors={"confirm": ctx.t("subject.erase.preview", word=CONFIRM_WORD,
                                                   whole=", ".join(whole_refs) or ctx.t("none"),
                                                   shared=", ".join(shared_refs) or ctx.t("none"))})
    now = ctx.now()
    for _subject, case in whole:
        if case.erased_at is None:
            erase.erase_case(ctx.session, ctx.svc, case, now, why="subject", actor=ctx.inv.user_id)
    unlinked = [unlink(ctx, subject, case) for subject, case in shared]
    ctx.audit("subject.erase", purpose=values["purpose"].strip(),
              detail={"cases_erased": len(whole_refs), "cases_unlinked": len(shared_refs),
                      "mentor_logs": sum(c["mentor_logs"] for c in unlinked),
                      "messages": sum(c["messages"] for c in unlinked)})
    return FormResult(reply=Reply(text=ctx.t("subject.erase.done", whole=", ".join(whole_refs) or ctx.t("none"),
                                             shared=", ".join(shared_refs) or ctx.t("none"))))
