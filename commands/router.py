"""parse → authorise → act → Reply, for every platform. Nothing raises past `dispatch`."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar, cast

from babel.core import UnknownLocaleError
from babel.lists import format_list
from sqlmodel import Session, select

from commands import access, confirm, markup, registry
from commands.cases import (
    advice,
    concerns,
    disclosures,
    followups,
    lifecycle,
    mentors,
    offers,
    persons,
    steps,
    track,
    views,
)
from commands.cases import changes as case_changes
from commands.context import Ctx, Services
from commands.errors import Refused, UsageError
from commands.forms import submission as forms
from commands.forms import table as form_table
from commands.guide import help as guide_help
from commands.guide import home
from commands.meetings import agenda, feed, minutes, run, schedule
from commands.meetings import changes as meeting_changes
from commands.messages import label, t, tn
from commands.parsing import case_ref
from commands.profile import handlers as profile
from commands.profile import procedures
from commands.reply import FormResult, Invocation, Reply
from commands.reports import handlers as reports
from commands.retention import handlers as retention
from commands.retention import subjects
from commands.tokenizer import Args, TokenizeError, to_args, tokenize
from commands.unit import members, reach, takeover
from storage import logs, pii
from storage.db import is_outage, retrying, unit_of_work
from storage.enums import Role
from storage.models import Case, Member
from storage.sequences import first_time

log = logging.getLogger(__name__)
R = TypeVar("R")
ERASED_OK = {("case", "show")}  # an erased case is a tombstone: it can be looked at, not changed or reopened


@registry.command("help", guide_help.USAGE, access.EVERYONE)
def help_cmd(ctx: Ctx, args: Args) -> Reply:
    """`help` reads the command table it is part of, so it is declared next to it."""
    return guide_help.answer(ctx, args, TABLE)


# The command table, named in one place. A module stands for the @command / @case_command / @form functions it
# defines (importing it registers nothing); the commands' forms are commands/forms/table.py's.
# tests/commands/test_command_table.py holds the table to docs/commands.md.
TABLE = registry.Table.of((
    advice, case_changes, concerns, disclosures, followups, lifecycle, mentors, offers, persons, steps, track, views,
    home, help_cmd,
    agenda, meeting_changes, feed, minutes, run, schedule,
    profile, procedures,
    reports,
    retention, subjects,
    members, reach, takeover,
), command_forms=form_table.FORMS)


def private(text: str, ok: bool = True) -> Reply:
    return Reply(text=text, private=True, ok=ok)


def pii_message(lang: str, text: str, findings: list[pii.Finding], where: str) -> str:
    words = list(dict.fromkeys(t(lang, f"pii.{f.kind}") for f in findings))
    places = list(dict.fromkeys(str(f.start + 1) for f in findings))
    # "en fødselsdato og en adresse (ved tegn 25 og 49)", "… (at characters 25 and 49)"
    return tn(lang, "pii.refused", len(places), kinds=_listed(lang, words), where=where,
              positions=_listed(lang, places))


def _listed(lang: str, words: list[str]) -> str:
    try:
        return format_list(words, locale=lang)
    except (ValueError, UnknownLocaleError):  # a language Babel does not know
        return ", ".join(words)


def usage_reply(lang: str, exc: UsageError, cmd: registry.Command | None) -> Reply:
    params = dict(exc.params)
    kind = str(params.get("labels_kind") or "")
    if kind and isinstance(params.get("choices"), str):  # the reader's words ("Skole, Dagtilbud"), not codes
        params["choices"] = ", ".join(label(lang, kind, c) for c in str(params["choices"]).split(", "))
    text = t(lang, f"usage.{exc.key}", **params)
    if params.get("suggestion"):
        text += " " + t(lang, "usage.did_you_mean", word=label(lang, kind, params["suggestion"]))
    if cmd is not None:
        text += "\n" + t(lang, "usage.line", usage=cmd.usage_in(lang))
    return private(text, ok=False)


def _member(session: Session, user_id: str) -> Member | None:
    return session.exec(select(Member).where(Member.user_id == user_id)).first()


def _refuse(ctx: Ctx, key: str, case_ref: str | None = None, **params: object) -> Reply:
    ctx.audit("access.denied", case_ref=case_ref, result="refused", detail={"reason": key})
    reply = private(ctx.t(f"refused.{key}", **params), ok=False)
    reply.outcome = "refused"
    return reply


def dispatch(svc: Services, inv: Invocation) -> Reply:
    reached: dict[str, str] = {}
    tokens = (logs.platform.set(inv.platform), logs.request_id.set(inv.request_id), logs.command.set(None))
    try:
        reply = retrying(lambda: _dispatch(svc, inv, reached), "command")
    except Exception as exc:  # noqa: BLE001 — only an outage gets here, after the retries
        reply = _unavailable(svc.lang, exc)
    finally:
        logs.command.reset(tokens[2])
        logs.request_id.reset(tokens[1])
        logs.platform.reset(tokens[0])
    reply.command = reached.get("command", "unknown")
    reply.outcome = reply.outcome or ("ok" if reply.ok else "usage_error")
    return reply


def _clean(inv: Invocation) -> Invocation:
    """What arrives from outside can never carry the marks of a live mention or link (commands/markup.py)."""
    return replace(inv, text=markup.scrub(inv.text), display_name=markup.scrub(inv.display_name))


def _dispatch(svc: Services, inv: Invocation, reached: dict[str, str]) -> Reply:
    inv = _clean(inv)
    lang = svc.lang
    cmd: registry.Command | None = None
    try:
        # First, so no reply (not even "unknown command `…`") can echo an identifier back.
        findings = pii.scan(inv.text, svc.settings.pii_denylist)
        if findings:
            return _stranger(svc, inv) or private(
                pii_message(lang, inv.text, findings, t(lang, "pii.where.command")), ok=False)
        try:
            tokens = tokenize(inv.text)
        except TokenizeError as exc:
            raise UsageError(f"tokenize.{exc.code}") from None
        words = [tok.value for tok in tokens if tok.kind == "word"]
        if not tokens or not words:
            raise UsageError("empty")
        lowered = [w.lower() for w in words]
        if lowered[0] != "help" and "help" in lowered[1:4]:
            topic = " ".join(lowered[: lowered.index("help")])
            reached["command"] = "help"
            logs.command.set("help")
            return _with_member(svc, inv, lambda ctx: help_cmd(ctx, to_args(tokenize(topic))), access.EVERYONE)
        cmd, size = TABLE.find(words)
        if cmd is not None:
            reached["command"] = cmd.name
            logs.command.set(cmd.name)
        if cmd is None:
            if lowered[0] in registry.GROUPS:
                raise UsageError("unknown_subcommand", group=lowered[0],
                                 usages="\n".join(c.usage_in(svc.lang) for c in TABLE.in_group(lowered[0])))
            raise UsageError("unknown_command", word=words[0][:40])
        try:
            args = to_args(tokens[_index_after(tokens, size):])
        except TokenizeError as exc:
            raise UsageError(f"tokenize.{exc.code}") from None
        if cmd.handler is None:
            return _with_member(svc, inv, lambda ctx: private(ctx.t("not_available", command=cmd.name)),
                                cmd.roles)
        return _run(svc, inv, cmd, args)
    except UsageError as exc:
        return _stranger(svc, inv) or usage_reply(lang, exc, cmd)
    except Exception as exc:  # noqa: BLE001 — the user never sees a stack trace
        if is_outage(exc):
            raise  # rolled back: dispatch tries the whole command again, or says "in a moment"
        return _crash(lang, exc, cmd)


def _unavailable(lang: str, exc: BaseException) -> Reply:
    """The database stayed away through the retries: nothing was stored, and the user may simply try again."""
    log.warning("command not run: database unavailable (%s)", type(exc).__name__)
    reply = private(t(lang, "unavailable"), ok=False)
    reply.outcome = "unavailable"
    return reply


def _stranger(svc: Services, inv: Invocation) -> Reply | None:
    """On the error paths, an unknown user still gets the polite refusal, and the attempt is audited."""
    if inv.user_id in svc.settings.admin_users:
        return None
    with unit_of_work(svc.engine) as session:
        member = _member(session, inv.user_id)
        if member is not None and member.active:
            return None
        return _refuse(Ctx(svc, session, inv), "unknown_user")


def _index_after(tokens: list, size: int) -> int:
    words = 0
    for i, tok in enumerate(tokens):
        if tok.kind == "word":
            words += 1
            if words == size:
                return i + 1
    return len(tokens)


def _crash(lang: str, exc: BaseException, cmd: registry.Command | None) -> Reply:
    error_id = secrets.token_hex(4)
    # Only the exception type and the command path: messages may echo user input.
    log.error("command failed: %s (%s) error_id=%s", cmd.name if cmd else "?", type(exc).__name__, error_id,
              extra={"error_id": error_id})
    reply = private(t(lang, "crash", error_id=error_id), ok=False)
    reply.outcome = "crashed"
    return reply


def _authorise(ctx: Ctx, roles: frozenset[Role]) -> Reply | None:
    member = _member(ctx.session, ctx.inv.user_id)
    if member is None and ctx.inv.user_id in ctx.settings.admin_users:
        member = members.add_first_admin(ctx, via="ADMIN_USERS")
    if member is None or not member.active:
        return _refuse(ctx, "unknown_user")
    ctx.actor = member
    if access.role_of(member) not in roles:
        return _refuse(ctx, "role", role=ctx.label("role", member.role))
    return None


def open_empty_unit(svc: Services, inv: Invocation) -> Member | None:
    """On an empty database the console's user becomes admin, so a newcomer can try everything: the same use
    case (and audit entry) as an ADMIN_USERS user's first command. None when the unit has members already."""
    with unit_of_work(svc.engine) as session:
        if session.exec(select(Member.id)).first() is not None:
            return None
        return members.add_first_admin(Ctx(svc, session, inv), via="console")


def _authorised(svc: Services, inv: Invocation, roles: frozenset[Role], body: Callable[[Ctx], R],
                wrap: Callable[[Reply], R]) -> R:
    """One unit of work: authorise, then run `body`. A Refused raised inside rolls everything back, and the
    refusal is audited in a transaction of its own (so the audit entry survives the rollback)."""
    try:
        with unit_of_work(svc.engine) as session:
            ctx = Ctx(svc, session, inv)
            denied = _authorise(ctx, roles)
            return wrap(denied) if denied is not None else body(ctx)
    except Refused as exc:
        refusal = exc
    with unit_of_work(svc.engine) as session:
        return wrap(_refuse(Ctx(svc, session, inv), refusal.key, case_ref=refusal.case_ref, **refusal.params))


def _reply(reply: Reply) -> Reply:
    return reply


def _with_member(svc: Services, inv: Invocation, fn: Callable[[Ctx], Reply], roles: frozenset[Role]) -> Reply:
    return _authorised(svc, inv, roles, fn, _reply)


def _run(svc: Services, inv: Invocation, cmd: registry.Command, args: Args) -> Reply:
    def body(ctx: Ctx) -> Reply:
        if inv.request_id and not _first_delivery(ctx.session, ctx, inv.request_id):
            return private(ctx.t("duplicate_request"))
        call = Args(list(args.words), list(args.texts), dict(args.options), list(args.mentions))  # per attempt
        ctx.confirm = call.options.pop(confirm.OPTION, None)
        if ctx.confirm is not None and ctx.confirm.strip().lower() in confirm.NO:
            return confirm.cancelled(ctx)  # Cancel on a question: nothing runs
        spec = TABLE.form_of(cmd)
        if spec is not None and spec.opens_bare and spec.opens_on(inv.platform) and \
                not (call.options or call.texts or call.mentions):
            refs = forms.refs_of(spec, call.words[1:] if cmd.case_arg else call.words)
            if refs is not None and spec.look_up is not None:
                spec.look_up(ctx, refs)  # a reference that does not exist says so, before the form opens
            if refs is not None and (not cmd.case_arg or not call.words):  # nothing but references: the form
                return Reply(text=ctx.t("form.opened"), form=forms.opened(ctx, spec, None, refs))
            if refs is not None:
                case = _case_of(ctx, cmd, call)
                if isinstance(case, Reply):
                    return case
                return Reply(text=ctx.t("form.opened"),
                             form=forms.opened(ctx, spec, case, {"case": case.ref, **refs}))
        return _perform(ctx, cmd, call)

    return _authorised(svc, inv, cmd.roles, body, _reply)


def _case_of(ctx: Ctx, cmd: registry.Command, args: Args) -> Case | Reply:
    """The case the first word names, resolved and access-checked (the words after it are left in args)."""
    ref = case_ref(args.words[0] if args.words else None)
    args.words = args.words[1:]
    case = ctx.session.exec(select(Case).where(Case.ref == ref)).first()
    if case is None or not access.can_see(ctx.session, ctx.member, case):
        if case is None and access.sees_all_cases(ctx.member):
            raise UsageError("unknown_case", ref=ref)
        # Same answer whether the case exists or not: no probing of references.
        return _refuse(ctx, "case", case_ref=ref, ref=ref)
    if case.erased_at is not None and cmd.path not in ERASED_OK:
        raise UsageError("case_erased", ref=ref, day=ctx.fmt_day(case.erased_at))
    return case


def _perform(ctx: Ctx, cmd: registry.Command, args: Args) -> Reply:
    """The command's handler, typed or from its form: the same checks, the same effect, the same audit."""
    if cmd.case_arg:
        case = _case_of(ctx, cmd, args)
        if isinstance(case, Reply):
            return case
        return cast(registry.CaseHandler, cmd.handler)(ctx, args, case)
    return cast(registry.Handler, cmd.handler)(ctx, args)


def _first_delivery(session: Session, ctx: Ctx, request_id: str) -> bool:
    return first_time(session, f"{ctx.inv.platform}:{request_id}"[:128], ctx.now())


def _form_case_denied(ctx: Ctx, context: dict[str, str]) -> Reply | None:
    """A form about a case (its reference rides in the form's context, which the platform sends back) gets the
    same check as a command's KE- argument, before its handler runs."""
    raw = context.get("case")
    if not raw:
        return None
    try:
        ref = case_ref(raw)
    except UsageError:
        return _refuse(ctx, "case", ref=str(raw)[:20])
    case = ctx.session.exec(select(Case).where(Case.ref == ref)).first()
    if case is None and access.sees_all_cases(ctx.member):
        return None  # the form's own handler says the case is unknown, as a command would
    if case is None or not access.can_see(ctx.session, ctx.member, case):
        return _refuse(ctx, "case", case_ref=ref, ref=ref)
    return None


def submit_form(svc: Services, inv: Invocation, form_id: str, values: dict[str, str],
                context: dict[str, str] | None = None) -> FormResult:
    """A submitted form (modal, card, console prompts). Errors come back per field; nothing is stored."""
    inv = _clean(inv)
    values = {k: markup.scrub(v) for k, v in values.items()}
    context = {k: markup.scrub(str(v)) for k, v in (context or {}).items()}
    spec = TABLE.forms.get(form_id)
    lang = svc.lang
    command_form = TABLE.command_forms.get(form_id)
    if spec is None and command_form is None:
        return FormResult(reply=private(t(lang, "usage.unknown_form"), ok=False))
    errors: dict[str, str] = {}
    unguarded = (spec.identifier_fields if spec is not None else frozenset()) | \
        (command_form.identifier_fields if command_form is not None else frozenset())
    for name, value in values.items():
        if name in unguarded or not value:
            continue
        findings = pii.scan(value, svc.settings.pii_denylist)
        if findings:
            errors[name] = pii_message(lang, value, findings, t(lang, "pii.where.field"))
    if command_form is not None:
        return _submit_command_form(svc, inv, command_form, values, context or {}, errors)
    if errors:
        return FormResult(errors=errors, discard=frozenset(errors))
    assert spec is not None

    def body(ctx: Ctx) -> FormResult:
        if (denied := _form_case_denied(ctx, context or {})) is not None:
            return FormResult(reply=denied)
        if inv.request_id and not _first_delivery(ctx.session, ctx, inv.request_id):
            # A replayed submission (Slack view.id + view.hash, a Teams invoke's activity id) runs once; a
            # submission with errors rolls its key back with everything else, so the corrected one runs.
            return FormResult(reply=private(ctx.t("duplicate_request")))
        result = spec.handler(ctx, values, context or {})
        if result.errors:
            ctx.session.rollback()
        return result

    try:
        return retrying(lambda: _authorised(svc, inv, spec.roles, body, lambda reply: FormResult(reply=reply)),
                        "form")
    except UsageError as exc:
        return FormResult(reply=usage_reply(lang, exc, None))
    except Exception as exc:  # noqa: BLE001
        if is_outage(exc):
            return FormResult(reply=_unavailable(lang, exc))
        return FormResult(reply=_crash(lang, exc, None))


def _submit_command_form(svc: Services, inv: Invocation, spec: registry.CommandForm, values: dict[str, str],
                         context: dict[str, str], guarded: dict[str, str]) -> FormResult:
    """A command's form: every field checked at once (the PII guard's findings among them); then the command's
    own handler with the Args the form built. Its usage error lands on the field it names; nothing is stored."""
    cmd = TABLE.commands[spec.path]
    lang = svc.lang

    def body(ctx: Ctx) -> FormResult:
        case = None
        ref = context.get("case") or ""
        if cmd.case_arg and ref:
            found = _case_of(ctx, cmd, Args(words=[ref]))
            if isinstance(found, Reply):
                return FormResult(reply=found)
            case = found
        clean, errors = forms.check(ctx, spec, case, values, context)
        errors.update(guarded)
        if errors:
            return FormResult(errors=errors, discard=frozenset(guarded))
        try:
            with ctx.session.begin_nested():
                reply = _perform(ctx, cmd, forms.to_args(spec, clean, context))
        except UsageError as exc:  # on the field it is about; else above the fields: the form stays open
            field = forms.field_of(spec, exc, {**values, **clean})
            return FormResult(errors={field or "form": forms.field_error(ctx, exc)})
        return FormResult(reply=reply)

    try:
        return retrying(lambda: _authorised(svc, inv, cmd.roles, body, lambda reply: FormResult(reply=reply)),
                        "form")
    except UsageError as exc:
        return FormResult(reply=usage_reply(lang, exc, cmd))
    except Exception as exc:  # noqa: BLE001
        if is_outage(exc):
            return FormResult(reply=_unavailable(lang, exc))
        return FormResult(reply=_crash(lang, exc, cmd))
