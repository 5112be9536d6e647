"""A command's form (declared in commands/forms/table.py, read from the command table, commands/router.py
`TABLE`): opening it as a platform-neutral Form, checking a submission field by field (every error at once),
and turning the checked values into the command's own Args, so the command's handler does the work exactly as
when it is typed."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlmodel import col, select

from commands.context import Ctx
from commands.errors import UsageError
from commands.parsing import local_datetime, resolve
from commands.registry import CommandForm, Field
from commands.reply import Form, FormField
from commands.tokenizer import Args
from storage.enums import (
    AgeBand,
    CloseReason,
    CourseResult,
    DisclosureCategory,
    Level,
    OfferKind,
    Relation,
    Role,
    Severity,
    Track,
)
from storage.models import Case, Meeting, Member, Subject
from storage.profile.schema import ANCHORS, ROLES
from storage.pseudonym import format_pseudonym

Choices = tuple[tuple[str, ...], tuple[str, ...]]  # codes, and the words shown for them
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
REFS = ("ref", "refopt")  # a reference: typed after the command (refopt: the command reads it as an option)
YES = ("yes", "ja", "y", "j", "true", "on", "1", "x")
_TIME = re.compile(r"(?:kl\.?\s*)?(\d{1,2})(?:[:.](\d{2}))?$")


ChoiceFn = Callable[[Ctx, Case | None, dict[str, str]], Choices]  # (ctx, the case, the form's context)


def _enum(kind: str, codes: tuple[str, ...]) -> ChoiceFn:
    return lambda ctx, _case, _context: (codes, tuple(ctx.label(kind, c) for c in codes))


def _words(kind: str, codes: tuple[str, ...]) -> ChoiceFn:
    return lambda ctx, _case, _context: (codes, tuple(ctx.t(f"form.choice.{kind}.{c}") for c in codes))


def _profile(kind: str, read: Callable[[Ctx], tuple[str, ...]]) -> ChoiceFn:
    def choices(ctx: Ctx, _case: Case | None, _context: dict[str, str]) -> Choices:
        codes = tuple(read(ctx))
        return codes, tuple(ctx.label(kind, c) if kind else c for c in codes)
    return choices


def _orgs(read: Callable[[Ctx], tuple[str, ...]]) -> ChoiceFn:
    def choices(ctx: Ctx, _case: Case | None, _context: dict[str, str]) -> Choices:
        codes = tuple(read(ctx))
        return codes, tuple(ctx.label("org", c) for c in codes)
    return choices


def _subjects(ctx: Ctx, case: Case | None, _context: dict[str, str]) -> Choices:
    if case is None:
        return (), ()
    rows = list(ctx.session.exec(select(Subject).where(Subject.case_id == case.id).order_by(col(Subject.id))))
    return (tuple(format_pseudonym(s.pseudonym) for s in rows),
            tuple(f"{format_pseudonym(s.pseudonym)} ({ctx.label('age', s.age_band)})" for s in rows))


def members(ctx: Ctx, _case: Case | None = None, _context: dict[str, str] | None = None) -> Choices:
    """The unit's active members as a select: their platform user ids, shown by name and org."""
    rows = list(ctx.session.exec(select(Member).where(col(Member.active).is_(True))
                                 .order_by(col(Member.display_name), col(Member.id))))
    return (tuple(m.user_id for m in rows),
            tuple(f"{m.display_name or m.user_id} ({ctx.label('org', m.org)})" for m in rows))


def _invited(ctx: Ctx, _case: Case | None, context: dict[str, str]) -> Choices:
    """A meeting's invited (fixed participants and those invited to it): the attendance checklist."""
    from commands.meetings.meeting import participants

    meeting = ctx.session.exec(select(Meeting).where(Meeting.ref == context.get("meeting", ""))).first()
    rows = participants(ctx.session, meeting) if meeting is not None else []
    return (tuple(m.user_id for m in rows),
            tuple(f"{m.display_name or m.user_id} ({ctx.label('org', m.org)})" for m in rows))


def _steps(ctx: Ctx, _case: Case | None, context: dict[str, str]) -> Choices:
    """A track's work procedure as a select of its steps (the track typed after the command, in any words)."""
    from commands.profile.procedures import track_of

    track = track_of(context.get("track"))
    steps = ctx.profile.steps(track.value) if track is not None else ()
    return (tuple(str(n) for n in range(1, len(steps) + 1)),
            tuple(f"{n}. {s.title.get(ctx.lang)}" for n, s in enumerate(steps, start=1)))


def _responsible(ctx: Ctx, _case: Case | None, _context: dict[str, str]) -> Choices:
    """Who does a procedure's step: a role in the case (the owner, …) or one of the unit's orgs."""
    codes = (*ROLES, *ctx.profile.org_codes())
    return codes, tuple(ctx.t(f"procedure.role.{c}") if c in ROLES else ctx.label("org", c) for c in codes)


def _years(ctx: Ctx, _case: Case | None, _context: dict[str, str]) -> Choices:
    year = ctx.now().astimezone(ctx.tz).year
    codes = tuple(str(y) for y in range(year, year - 5, -1))
    return codes, codes


# Choices whose words are the forms' own (`form.choice.<kind>.<code>` in the catalogs).
WORD_CHOICES: dict[str, tuple[str, ...]] = {
    "answer": ("accepted", "declined"), "yes_no": ("yes", "no"), "holidays": ("skip", "next_workday"),
    "import_check": ("yes", "no"),
    "format": ("md", "csv", "pdf"), "step_done": ("done", "skip"), "weekday": WEEKDAYS,
    "interval": ("1", "2", "3", "4"),
}
CHOICES: dict[str, ChoiceFn] = {
    "severity": _enum("severity", tuple(Severity)), "track": _enum("track", tuple(Track)),
    "age": _enum("age", tuple(AgeBand)), "level": _enum("level", tuple(Level)),
    "close_reason": _enum("close_reason", tuple(CloseReason)), "offer_kind": _enum("offer_kind", tuple(OfferKind)),
    "role": _enum("role", tuple(Role)), "relation": _enum("relation", tuple(Relation)),
    "course_result": _enum("course_result", tuple(CourseResult)),
    "disclosure": _enum("disclosure", tuple(DisclosureCategory)),
    "anchor": lambda ctx, _case, _context: (ANCHORS, tuple(ctx.t(f"procedure.anchor.{a}") for a in ANCHORS)),
    "responsible": _responsible, "step": _steps,
    "open_org": _orgs(lambda ctx: ctx.profile.org_codes(include_archived=False)),
    "advice_topic": _profile("advice_topic", lambda ctx: ctx.profile.advice_topics),
    "org": _orgs(lambda ctx: ctx.profile.org_codes()), "checking_org": _orgs(lambda ctx: ctx.profile.checking_orgs),
    "source": _profile("source", lambda ctx: ctx.profile.sources),
    "basis": _profile("basis", lambda ctx: ctx.profile.basis_codes()),
    "district": _profile("", lambda ctx: ctx.profile.districts),
    "subject": _subjects, "member": members, "year": _years, "invited": _invited,
    **{kind: _words(kind, codes) for kind, codes in WORD_CHOICES.items()},
}
LABEL_KINDS = {"checking_org": "org", "open_org": "org"}  # a choice whose words are another kind's
FIELD_ERRORS = ("bad_time", "bad_datetime", "nonexistent_time")  # `form.<key>`: a usage error said for a field


def _label(ctx: Ctx, f: Field) -> str:
    return ctx.t(f.label or f"form.field.{f.name}")


def form_fields(ctx: Ctx, spec: CommandForm, case: Case | None, context: dict[str, str],
                values: dict[str, str] | None = None) -> tuple[FormField, ...]:
    values = values or {}
    out: list[FormField] = []
    if spec.case_arg and "case" not in context:
        out.append(FormField("case", ctx.t("form.field.case"), "text", required=True, hint=ctx.t("form.hint.case"),
                             value=values.get("case", "")))
    for f in spec.fields:
        if f.to in REFS and f.name in context:
            continue
        hint = ctx.t(f.hint) if f.hint else ""
        if f.kind == "datetime":  # one picker each for the day and the time
            out.append(FormField(f"{f.name}_date", _label(ctx, f), "date", required=f.required, hint=hint,
                                 value=values.get(f"{f.name}_date", "")))
            out.append(FormField(f"{f.name}_time", ctx.t("form.field.at"), "time", required=f.required,
                                 value=values.get(f"{f.name}_time", "")))
            continue
        options: tuple[str, ...] = ()
        labels: tuple[str, ...] = ()
        if f.choices in CHOICES:
            options, labels = CHOICES[f.choices](ctx, case, context)
            if not options and not f.required and f.kind in ("select", "multiselect"):
                continue  # nothing to choose (a unit without districts, a case without persons): not asked
        out.append(FormField(f.name, _label(ctx, f), f.kind, options, f.required, hint,  # type: ignore[arg-type]
                             never_stored=f.identifier, option_labels=labels, file_types=f.file_types,
                             value="" if f.identifier else values.get(f.name, f.default)))
    return tuple(out)


def opened(ctx: Ctx, spec: CommandForm, case: Case | None, context: dict[str, str]) -> Form:
    ref = context.get("case") or next((context[f.name] for f in spec.fields if f.to in REFS and f.name in context),
                                      "")
    title = ctx.t(spec.title, ref=ref).strip()
    return Form(spec.form_id, title, form_fields(ctx, spec, case, context), ctx.t("form.send"), dict(context))


def refs_of(spec: CommandForm, words: list[str]) -> dict[str, str] | None:
    """The reference words typed after the command, by field; None when more than references was typed."""
    ref_fields = [f.name for f in spec.fields if f.to in REFS]
    if len(words) > len(ref_fields):
        return None
    return dict(zip(ref_fields, words, strict=False))


def _field_error(ctx: Ctx, exc: UsageError) -> str:
    if exc.key == "missing_option":
        return ctx.t("form.required")
    if exc.key in FIELD_ERRORS:
        return ctx.t(f"form.{exc.key}")
    if exc.key == "bad_choice":
        text = ctx.t("form.unknown_choice", value=str(exc.params.get("value", "")))
        suggestion = str(exc.params.get("suggestion") or "")
        if suggestion:
            kind = str(exc.params.get("labels_kind") or "")
            word = ctx.label(kind, suggestion) if kind else suggestion
            text += " " + ctx.t("usage.did_you_mean", word=word)
        return text
    return ctx.t(f"usage.{exc.key}", **exc.params)


def _names(field: FormField) -> dict[str, tuple[str, ...]]:
    """What a choice may be typed as besides its code: its label, a member's name without the org, and the
    label's last word where no other choice ends with it ("Takket ja" → "ja")."""
    labels = [field.option_label(i) for i in range(len(field.options))]
    last = [label.split()[-1].casefold() if label.split() else "" for label in labels]
    return {o: (labels[i], labels[i].split(" (")[0], *([last[i]] if last.count(last[i]) == 1 else []))
            for i, o in enumerate(field.options)}


def _one(ctx: Ctx, field: FormField, raw: str, kind: str = "") -> str:
    """One submitted value, checked and normalised (a code, an ISO date, HH:MM); UsageError when wrong.
    `kind`: the catalog's kind of its choices, whose words in every language are taken too (`barn`, `child`)."""
    if field.kind in ("select", "member", "multiselect") and field.options:
        names = _names(field)
        parts = [p for p in raw.split(",") if p.strip()] if field.kind == "multiselect" else [raw.removeprefix("@")]
        try:
            return ",".join(resolve(field.options, p, field.name, kind, names=names) for p in parts)
        except UsageError as exc:  # the nearest choice as the form shows it
            near = str(exc.params.get("suggestion") or "")
            if near in field.options:
                exc.params.update(suggestion=field.option_label(field.options.index(near)), labels_kind="")
            raise
    if field.kind == "date":
        local = local_datetime(raw, ctx.tz, ctx.now(), field.name).astimezone(ctx.tz)
        return local.date().isoformat()
    if field.kind == "time":
        m = _TIME.match(raw.strip().lower())
        if not m or int(m.group(1)) > 23 or int(m.group(2) or 0) > 59:
            raise UsageError("bad_time", option=field.name, value=raw[:20])
        return f"{int(m.group(1)):02d}:{int(m.group(2) or 0):02d}"
    if field.kind == "checkbox":
        return "yes" if raw.strip().lower() in YES else ""
    return raw.strip()


def check_fields(ctx: Ctx, fields: tuple[FormField, ...], values: dict[str, str],
                 kinds: dict[str, str] | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """Every field of a form at once: required, a choice among its options (code or word), a date, a time."""
    clean: dict[str, str] = {}
    errors: dict[str, str] = {}
    for field in fields:
        raw = (values.get(field.name) or "").strip()
        if not raw:
            if field.required:
                errors[field.name] = ctx.t("form.required")
            continue
        try:
            clean[field.name] = _one(ctx, field, raw, (kinds or {}).get(field.name, ""))
        except UsageError as exc:
            errors[field.name] = _field_error(ctx, exc)
    return clean, errors


def check(ctx: Ctx, spec: CommandForm, case: Case | None, values: dict[str, str], context: dict[str, str]
          ) -> tuple[dict[str, str], dict[str, str]]:
    """Every field at once: (the values as the command reads them, errors by field)."""
    kinds = {f.name: LABEL_KINDS.get(f.choices, f.choices) for f in spec.fields if f.choices}
    clean, errors = check_fields(ctx, form_fields(ctx, spec, case, context), values, kinds)
    for f in spec.fields:  # a day and a time asked apart are one value for the command
        if f.kind == "datetime" and f"{f.name}_date" in clean and f"{f.name}_time" in clean:
            clean[f.name] = f"{clean.pop(f'{f.name}_date')} {clean.pop(f'{f.name}_time')}"
    return clean, errors


def to_args(spec: CommandForm, clean: dict[str, str], context: dict[str, str]) -> Args:
    """The checked values as the typed command would have given them (references first, in order)."""
    values = spec.values_to_options(dict(clean)) if spec.values_to_options else dict(clean)
    args = Args()
    if spec.case_arg:
        args.words.append(context.get("case") or values.get("case", ""))
    args.words += [context.get(f.name) or values.get(f.name, "") for f in spec.fields if f.to == "ref"]
    for f in spec.fields:
        value = context.get(f.name) or values.get(f.name, "") if f.to == "refopt" else values.get(f.name, "")
        if f.kind == "checkbox" and f.to == "option":  # unticked is a "no" the command must hear
            value = value or "no"
        if f.to == "ref" or not value:
            continue
        if f.to == "text":
            args.texts.append(value)
        elif f.to == "word":
            args.words.append(value)
        elif f.to == "mention":
            args.mentions.append(value)
        else:
            args.options[f.name] = value
    extra = set(values) - {f.name for f in spec.fields} - {"case"}
    for name in sorted(extra):  # options a form computes (the meeting rhythm's rrule)
        args.options[name] = values[name]
    return args


def field_of(spec: CommandForm, exc: UsageError, values: dict[str, str]) -> str:
    """The field a command's usage error is about: the option it names, else the field holding the value it
    quotes ('' when it is about none of them)."""
    option = str(exc.params.get("option") or "")
    if exc.key in ("missing_case", "bad_case_ref", "unknown_case"):
        return "case"
    for f in spec.fields:
        if f.name == option.lower():  # a usage line's word in capitals (N, TRACK) is its field
            return f"{f.name}_date" if f.kind == "datetime" else f.name
    quoted = str(exc.params.get("value") or "").strip()
    if quoted:
        datetimes = {f.name for f in spec.fields if f.kind == "datetime"}
        for name, value in values.items():
            if value.strip() and value.strip()[:len(quoted)] == quoted:
                return f"{name}_date" if name in datetimes else name
    return ""


def field_error(ctx: Ctx, exc: UsageError) -> str:
    return _field_error(ctx, exc)
