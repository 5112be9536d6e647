"""`unit procedure show|add|remove|move TRACK …` (secretariat, admin): a track's work procedure edited in chat,
in the reader's words. Each change is a new profile version, stored and audited like `unit profile import`
(storage/profile/store.py); cases keep the procedure version they were qualified under (docs/profile.md)."""

from __future__ import annotations

import re

import yaml
from sqlalchemy import event

from commands import access
from commands.context import Ctx
from commands.errors import UsageError
from commands.messages import LANGS, label
from commands.parsing import enum_value, only_options, yes_no
from commands.registry import command
from commands.reply import Reply
from commands.tokenizer import Args
from storage.enums import Track
from storage.profile import Profile, ProfileError, load_text, store
from storage.profile.schema import ANCHORS, OFFSET, ROLES, Step

UNITS = ("h", "d", "wd", "w", "m")
STEP_N = re.compile(r"^\d{1,3}$")


def offset_words(ctx: Ctx, offset: str) -> str:
    match = OFFSET.match(offset)
    if match is None:
        return offset
    n, unit = int(match.group(1)), match.group(2)
    return ctx.tn(f"procedure.offset.{unit}", n)


def who(ctx: Ctx, responsible: str) -> str:
    if responsible in ROLES:
        return ctx.t(f"procedure.role.{responsible}")
    return ctx.label("org", responsible)


def step_line(ctx: Ctx, n: int, step: Step) -> str:
    flags = [ctx.t("procedure.required")] if step.required_before_close else []
    if step.on_agenda_when_late:
        flags.append(ctx.t("procedure.agenda"))
    due = ctx.t("procedure.due", offset=offset_words(ctx, step.due),
                anchor=ctx.t(f"procedure.anchor.{step.anchor}"))
    tail = f" · {', '.join(flags)}" if flags else ""
    return f"{n}. {step.title.get(ctx.lang)} — {who(ctx, step.responsible)} — {due}{tail}"


def track_of(raw: str | None) -> Track | None:
    """The track as a code or as its word in any language (`adult`, `voksen`); None when it is neither."""
    word = (raw or "").strip().casefold()
    for track in Track:
        if word in {track.value, *(label(lang, "track", track.value).casefold() for lang in LANGS)}:
            return track
    return None


def _track(ctx: Ctx, args: Args) -> Track:
    if not args.words:
        raise UsageError("missing_option", option="TRACK", choices=", ".join(Track))
    return track_of(args.words[0]) or enum_value(Track, args.words[0], "TRACK")


def _number(raw: str | None, steps: tuple[Step, ...], option: str, *, extra: int = 0) -> int:
    if raw is None or not STEP_N.match(raw.strip()) or not 1 <= int(raw) <= len(steps) + extra:
        raise UsageError("procedure_step", value=(raw or "—")[:20], count=len(steps) + extra, option=option)
    return int(raw)


def _dump(profile: Profile, note: str) -> str:
    body = yaml.safe_dump(store.as_json(profile), allow_unicode=True, sort_keys=False, width=120)
    return f"# {note}\n{body}"


def _save(ctx: Ctx, track: Track, steps: list[Step], action: str, detail: dict[str, object]) -> int:
    current = store.current(ctx.session, ctx.settings)
    procedures = {**current.profile.procedures, track: tuple(steps)}
    updated = current.profile.model_copy(update={"procedures": procedures})
    text = _dump(updated, ctx.t("procedure.yaml_note", version=current.version + 1 if current.stored else 2,
                                command=f"unit procedure {action} {track.value}"))
    try:
        parsed = load_text(text, tuple(ctx.settings.pii_denylist))
    except ProfileError as exc:
        raise UsageError("profile_invalid", line=exc.line, path=exc.path[:120], message=exc.message[:300]) from None
    row = store.save(ctx.session, ctx.settings, text, parsed, ctx.inv.user_id, ctx.now())
    event.listen(ctx.session, "after_commit", lambda _session: ctx.svc.forget_calendar(), once=True)
    ctx.audit(f"unit.procedure.{action}", detail={"track": track.value, "old": current.version, "new": row.version,
                                                  **detail})
    return row.version


def _listing(ctx: Ctx, track: Track, steps: tuple[Step, ...], text: str) -> Reply:
    lines = [step_line(ctx, n, s) for n, s in enumerate(steps, start=1)] or [ctx.t("procedure.empty")]
    if not ctx.profile.procedures_active:
        lines.append(ctx.t("profile.procedures_off"))
    return Reply(title=ctx.t("procedure.title", track=ctx.label("track", track.value)),
                 text=text + ("\n" if text else "") + "\n".join(lines))


@command("unit procedure show", "unit procedure show TRACK", access.LEADS)
def show(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set(), words=1)
    track = _track(ctx, args)
    ctx.audit("unit.procedure.show", detail={"track": track.value})
    return _listing(ctx, track, ctx.profile.steps(track.value), "")


ADD_FIELDS = ("title", "title_en", "responsible", "anchor", "due", "required", "agenda", "at")


@command("unit procedure add", 'unit procedure add TRACK "title" responsible=… anchor=… due=… [title_en="…"] '
         '[required=yes] [agenda=yes] [at=N]', access.LEADS)
def add(ctx: Ctx, args: Args) -> Reply:
    """Typed bare (or with the track only) it opens its form (commands/form_table.py), choices in words."""
    only_options(args, set(ADD_FIELDS) - {"title"}, words=1, texts=1)
    track = _track(ctx, args)
    return add_step(ctx, track, {**args.options, "title": args.texts[0] if args.texts else ""})


def add_step(ctx: Ctx, track: Track, values: dict[str, str]) -> Reply:
    title = (values.get("title") or "").strip()
    if not title:
        raise UsageError("missing_text")
    if len(title) > 200 or len(values.get("title_en", "")) > 200:
        raise UsageError("too_long", option="title", limit=200)
    steps = list(ctx.profile.steps(track.value))
    responsible = (values.get("responsible") or "").strip()
    if not responsible:
        raise UsageError("missing_option", option="responsible",
                         choices=", ".join((*ROLES, *ctx.profile.org_codes())))
    if responsible.lower() in ROLES:
        responsible = responsible.lower()
    elif ctx.profile.org(responsible) is not None:
        responsible = responsible.upper()
    else:
        raise UsageError("bad_choice", option="responsible", value=responsible[:30],
                         choices=", ".join((*ROLES, *ctx.profile.org_codes())))
    anchor = (values.get("anchor") or "").strip().lower()
    if anchor not in ANCHORS:
        raise UsageError("bad_choice", option="anchor", value=anchor or "—", choices=", ".join(ANCHORS))
    due = (values.get("due") or "").strip().lower()
    if not OFFSET.match(due):
        raise UsageError("procedure_offset", value=due[:20] or "—", option="due")
    at = _number(values.get("at"), tuple(steps), "at", extra=1) if values.get("at") else len(steps) + 1
    step = Step.model_validate({"title": {"da": title, "en": (values.get("title_en") or title).strip()},
                                "responsible": responsible, "anchor": anchor, "due": due,
                                "required_before_close": bool(yes_no(values.get("required"), "required")),
                                "on_agenda_when_late": bool(yes_no(values.get("agenda"), "agenda"))})
    steps.insert(at - 1, step)
    version = _save(ctx, track, steps, "add", {"n": at})
    return _listing(ctx, track, tuple(steps), ctx.t("procedure.added", n=at, version=version))


@command("unit procedure remove", "unit procedure remove TRACK N", access.LEADS)
def remove(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set(), words=2)
    track = _track(ctx, args)
    steps = list(ctx.profile.steps(track.value))
    n = _number(args.words[1] if len(args.words) > 1 else None, tuple(steps), "N")
    removed = steps.pop(n - 1)
    version = _save(ctx, track, steps, "remove", {"n": n})
    return _listing(ctx, track, tuple(steps), ctx.t("procedure.removed", n=n, title=removed.title.get(ctx.lang),
                                                    version=version))


@command("unit procedure move", "unit procedure move TRACK N place=M", access.LEADS)
def move(ctx: Ctx, args: Args) -> Reply:
    only_options(args, {"place"}, words=2)
    track = _track(ctx, args)
    steps = list(ctx.profile.steps(track.value))
    n = _number(args.words[1] if len(args.words) > 1 else None, tuple(steps), "N")
    to = _number(args.options.get("place"), tuple(steps), "place")
    if n == to:
        raise UsageError("procedure_same", n=n)
    steps.insert(to - 1, steps.pop(n - 1))
    version = _save(ctx, track, steps, "move", {"n": n, "to": to})
    return _listing(ctx, track, tuple(steps), ctx.t("procedure.moved", n=n, to=to, version=version))
