"""`unit profile show|export|import` (admin): the unit's profile, versioned and audited (SPEC.md §9)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import get_timezone_location
from sqlalchemy import event
from sqlmodel import col, select

from commands import access, markup, messages
from commands.context import Ctx
from commands.errors import UsageError
from commands.parsing import only_options
from commands.registry import command, form
from commands.reply import Attachment, FieldLine, Form, FormField, FormResult, Reply
from commands.time import timefmt
from commands.tokenizer import Args
from storage.models import Case, CaseCheck, Member
from storage.profile import Profile, ProfileError, load_text, store
from storage.profile.tables import CaseStep, UnitProfileVersion

IMPORT_FORM = "profile.import"


def _calendar(ctx: Ctx, profile: Profile) -> str:
    """Time zone, holidays, working hours and language in words ("Danmark-tid, helligdage i Danmark …")."""
    loc = timefmt.locale(ctx.lang)
    try:
        zone = get_timezone_location(ZoneInfo(profile.timezone), locale=loc)
    except (LookupError, ValueError):
        zone = profile.timezone
    country = loc.territories.get(profile.holidays.country, profile.holidays.country)
    language = loc.languages.get(profile.language, profile.language)
    return ctx.t("profile.calendar_words", timezone=zone, country=country,
                 categories=messages.labels(ctx.lang, "holiday_category", ",".join(profile.holidays.categories)),
                 start=profile.working_hours.start, end=profile.working_hours.end, language=language)


def _summary(ctx: Ctx, profile: Profile) -> list[FieldLine]:
    """The profile as words; a code appears only as what an admin types (`POLICE`, `rpl115`), as a hint."""
    lang = ctx.lang
    orgs = []
    for org in profile.orgs:
        flags = [ctx.t("profile.fixed") if org.participant == "fixed" else ctx.t("profile.adhoc")]
        if org.checks_registers:
            flags.append(ctx.t("profile.checks"))
        if org.propose_for:
            flags.append(ctx.t("profile.proposed", tracks=", ".join(ctx.label("track", t.value)
                                                                     for t in org.propose_for)))
        if org.archived:
            flags.append(ctx.t("profile.archived"))
        orgs.append(f"`{org.code}` – {org.name.get(lang) or org.name.get('da')} ({', '.join(flags)})")
    districts = ", ".join(profile.districts) or ctx.t("profile.no_districts")
    if profile.archived_districts:
        districts += f"; {ctx.t('profile.archived')}: {', '.join(profile.archived_districts)}"
    steps = [ctx.t("profile.steps_words", track=ctx.label("track", track.value), count=ctx.tn("n.steps", len(items)),
                   required=ctx.tn("n.required", sum(1 for s in items if s.required_before_close)))
             for track, items in profile.procedures.items()]
    targets = "\n".join(ctx.t("profile.target", name=ctx.t(f"report.kpi.{name}"), pct=ctx.pct(value))
                        for name, value in profile.kpi_targets.items())
    return [
        FieldLine(ctx.t("profile.orgs"), "\n".join(orgs)),
        FieldLine(ctx.t("profile.districts"), districts),
        FieldLine(ctx.t("profile.sources"), ", ".join(ctx.label("source", s) for s in profile.sources)),
        FieldLine(ctx.t("profile.indicators"), messages.labels(lang, "indicator", ",".join(profile.indicators))),
        FieldLine(ctx.t("profile.bases"), "\n".join(f"`{b.code}` – {b.name.get(lang) or b.name.get('da')}"
                                                    for b in profile.bases)),
        FieldLine(ctx.t("profile.visitation"), ", ".join(
            ctx.t("profile.hours_words", severity=ctx.label("severity", sev.value), hours=ctx.tn("n.hours", hours))
            for sev, hours in profile.visitation_hours.items())),
        FieldLine(ctx.t("profile.targets"), targets or "—"),
        FieldLine(ctx.t("profile.calendar"), _calendar(ctx, profile)),
        FieldLine(ctx.t("profile.procedures"), "\n".join(
            [*steps, *([] if profile.procedures_active else [ctx.t("profile.procedures_off")])]) or "—"),
    ]


@command("unit profile show", "unit profile show", access.ADMIN)
def show(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set())
    current = store.current(ctx.session, ctx.settings)
    row = ctx.session.exec(select(UnitProfileVersion).where(UnitProfileVersion.version == current.version)).first()
    text = (ctx.t("profile.since", when=ctx.fmt(row.created_at), who=markup.mention(row.created_by)) if row is not None
            else ctx.t("profile.from_setting"))
    ctx.audit("unit.profile.show", detail={"version": current.version})
    return Reply(title=ctx.t("profile.title", name=current.profile.name, version=current.version), text=text,
                 fields=_summary(ctx, current.profile))


@command("unit profile export", "unit profile export", access.ADMIN)
def export(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set())
    version, text = store.stored_text(ctx.session, ctx.settings)
    ctx.audit("unit.profile.export", detail={"version": version})
    return Reply(text=ctx.t("profile.exported", version=version), attachments=[
        Attachment(f"unit-profile-v{version}.yaml", "application/x-yaml", text.encode("utf-8"),
                   command="unit profile export")])


def import_form(ctx: Ctx) -> Form:
    """Slack: a file upload (a text field there holds 3 000 characters, a full profile some 8 KB; the adapter
    fetches the file and submits its text as `yaml`). Teams: a card to paste the YAML into."""
    if ctx.inv.platform == "slack":
        field = FormField("yaml", ctx.t("profile.field.file"), "file", required=True, hint=ctx.t("profile.hint.file"))
    else:
        field = FormField("yaml", ctx.t("profile.field.yaml"), "multiline", required=True,
                          hint=ctx.t("profile.hint.yaml"))
    return Form(IMPORT_FORM, ctx.t("profile.form"), (field,), ctx.t("profile.submit"))


@command("unit profile import", "unit profile import [path=FILE]", access.ADMIN)
def import_cmd(ctx: Ctx, args: Args) -> Reply:
    only_options(args, {"path"})
    raw = args.options.get("path")
    if raw is None:
        if ctx.inv.platform == "console":
            raise UsageError("profile_missing_path")
        opened = "profile.form_opened_file" if ctx.inv.platform == "slack" else "profile.form_opened"
        return Reply(text=ctx.t(opened), form=import_form(ctx))
    if ctx.inv.platform != "console":
        raise UsageError("profile_path_console")  # a chat user never names a file on the server
    try:
        text = Path(raw).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise UsageError("profile_path", path=raw[:200]) from None
    return import_text(ctx, text)


@form(IMPORT_FORM, access.ADMIN)
def submit_import(ctx: Ctx, values: dict[str, str], _context: dict[str, str]) -> FormResult:
    text = values.get("yaml") or ""
    try:
        parse(ctx, text)
    except UsageError as exc:
        return FormResult(errors={"yaml": ctx.t(f"usage.{exc.key}", **exc.params)})
    return FormResult(reply=import_text(ctx, text))


def parse(ctx: Ctx, text: str) -> Profile:
    try:
        profile = load_text(text, tuple(ctx.settings.pii_denylist))
    except ProfileError as exc:
        raise UsageError("profile_invalid", line=exc.line, path=exc.path[:120], message=exc.message[:300]) from None
    if profile.language not in messages.LANGS:  # a language is a catalog in commands/locale/
        raise UsageError("profile_language", language=profile.language, languages=", ".join(messages.LANGS))
    return profile


def _in_use(ctx: Ctx) -> tuple[set[str], set[str]]:
    """The org codes and districts that cases, checks, steps or members name: archived, never dropped."""
    s = ctx.session
    orgs = {o for o in s.exec(select(Case.responsible_org).distinct()) if o}
    orgs |= set(s.exec(select(CaseCheck.org).distinct()))
    orgs |= set(s.exec(select(Member.org).where(col(Member.active)).distinct()))
    orgs |= set(s.exec(select(CaseStep.responsible).distinct()))
    districts = {d for d in s.exec(select(Case.district).distinct()) if d}
    return orgs, districts


def with_archived(ctx: Ctx, old: Profile, new: Profile) -> tuple[Profile, list[str]]:
    """Orgs and districts the new version drops while something uses them come back, archived."""
    orgs_used, districts_used = _in_use(ctx)
    keep = [o.model_copy(update={"archived": True}) for o in old.orgs
            if new.org(o.code) is None and o.code in orgs_used]
    offered = set(new.districts) | set(new.archived_districts)
    districts = [d for d in (*old.districts, *old.archived_districts) if d not in offered and d in districts_used]
    if not keep and not districts:
        return new, []
    updated = new.model_copy(update={"orgs": (*new.orgs, *keep),
                                     "archived_districts": (*new.archived_districts, *districts)})
    return updated, [o.code for o in keep] + districts


def import_text(ctx: Ctx, text: str) -> Reply:
    parsed = parse(ctx, text)
    current = store.current(ctx.session, ctx.settings)
    parsed, archived = with_archived(ctx, current.profile, parsed)
    if parsed == current.profile:
        raise UsageError("profile_unchanged", version=current.version)
    row = store.save(ctx.session, ctx.settings, text, parsed, ctx.inv.user_id, ctx.now())
    event.listen(ctx.session, "after_commit", lambda _session: ctx.svc.forget_calendar(), once=True)
    ctx.audit("unit.profile.import", detail={"old": current.version, "new": row.version, "name": parsed.name,
                                             "archived": archived})
    reply = Reply(text=ctx.t("profile.imported", version=row.version, old=current.version))
    if archived:
        reply.fields.append(FieldLine(ctx.t("profile.archived"), ctx.t("profile.kept_archived",
                                                                       items=", ".join(archived))))
    return reply
