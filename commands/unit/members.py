"""The unit itself: members and roles, the audit log, key rotation."""

from __future__ import annotations

from sqlmodel import col, select

from commands import access, platforms
from commands.common import mention, only_options
from commands.context import Ctx
from commands.errors import Refused, UsageError
from commands.parsing import case_ref, enum_value, org_code
from commands.registry import command
from commands.reply import Reply
from commands.tokenizer import Args, user_ref
from storage import audit, rekey
from storage.enums import Role
from storage.models import Case, Member


@command("unit members", "unit members", access.LEADS)
def members(ctx: Ctx, args: Args, _case: Case | None) -> Reply:
    only_options(args, set())
    rows = ctx.session.exec(select(Member).where(Member.active == True)  # noqa: E712
                            .order_by(col(Member.role), col(Member.org), col(Member.user_id)))
    from commands.unit.reach import unreachable

    cut_off = set(unreachable(ctx))  # on Teams without a 1:1 chat the bot knows of (`unit reach`)
    lines = [ctx.t("members.line", user=mention(m), role=ctx.label("role", m.role), org=ctx.label("org", m.org),
                   name=m.display_name or "—")
             + ("" if platforms.reachable(m.platform, ctx.settings)
                else " · " + ctx.t("members.unreachable", platform=m.platform))
             + (" · " + ctx.t("members.teams_unreachable") if m.user_id in cut_off else "")
             for m in rows]
    return Reply(title=ctx.t("members.title"), text="\n".join(lines) or ctx.t("members.empty"))


def _target(args: Args) -> str:
    raw = args.mentions[0] if args.mentions else (args.words[0] if args.words else None)
    if not raw:
        raise UsageError("missing_user")
    user_id = user_ref(raw)
    if not user_id or len(user_id) > 128 or any(ch.isspace() for ch in user_id):
        raise UsageError("missing_user")
    return user_id


def platform_of(ctx: Ctx, user_id: str) -> str:
    """The platform the id names by its shape (commands.platforms); an id that names none is refused: on
    Teams most likely an @mention Teams could not resolve to a person."""
    platform = platforms.by_shape(user_id, ctx.settings)
    if platform is None:
        if ctx.inv.platform == "teams":
            raise UsageError("not_a_teams_user", user=user_id[:64])
        raise UsageError("user_platform", user=user_id[:64],
                         platforms=", ".join(sorted(platforms.configured(ctx.settings))))
    return platform


@command("unit add", 'unit add @user role=ROLE org=ORG [name="…"]', access.LEADS)
def add(ctx: Ctx, args: Args, _case: Case | None) -> Reply:
    only_options(args, {"role", "org", "name"}, words=1)
    assert ctx.actor is not None
    user_id = _target(args)
    role = enum_value(Role, args.options.get("role"), "role")
    org = org_code(ctx.profile.org_codes(), args.options.get("org"), "org")
    name = args.options.get("name", "").strip()[:128]
    existing = ctx.session.exec(select(Member).where(Member.user_id == user_id)).first()
    if ctx.actor.role != Role.admin and (role is Role.admin or (existing and existing.role == Role.admin)):
        raise Refused("admin_only")
    if existing is None:
        platform = platform_of(ctx, user_id)
        existing = Member(user_id=user_id, platform=platform, role=role.value, org=org, display_name=name,
                          created_at=ctx.now())
    else:
        existing.role, existing.org, existing.active = role.value, org, True
        existing.display_name = name or existing.display_name
    ctx.session.add(existing)
    ctx.session.flush()
    ctx.audit("unit.add", detail={"user": user_id, "role": role.value, "org": org})
    role_word, org_word = ctx.label("role", role.value), ctx.label("org", org)
    ctx.send_dm(user_id, Reply(text=ctx.t("members.welcome", role=role_word, org=org_word)))
    return Reply(text=ctx.t("members.added", user=mention(existing), role=role_word, org=org_word))


@command("unit remove", "unit remove @user", access.LEADS)
def remove(ctx: Ctx, args: Args, _case: Case | None) -> Reply:
    only_options(args, set(), words=1)
    assert ctx.actor is not None
    user_id = _target(args)
    member = ctx.session.exec(select(Member).where(Member.user_id == user_id, Member.active == True)).first()  # noqa: E712
    if member is None:
        raise UsageError("unknown_member", user=user_id)
    if member.role == Role.admin:
        if ctx.actor.role != Role.admin:
            raise Refused("admin_only")
        admins = ctx.session.exec(select(Member.id).where(Member.role == Role.admin, Member.active == True)).all()  # noqa: E712
        if len(admins) <= 1:
            raise UsageError("last_admin")
    member.active = False
    ctx.session.add(member)
    ctx.audit("unit.remove", detail={"user": user_id})
    return Reply(text=ctx.t("members.removed", user=mention(member)))


@command("unit audit", "unit audit KE-… | unit audit verify", access.LEADS)
def audit_cmd(ctx: Ctx, args: Args, _case: Case | None) -> Reply:
    only_options(args, set(), words=1)
    if args.words and args.words[0].lower() == "verify":
        report = audit.verify(ctx.session)
        ctx.audit("audit.verify", result="ok" if report.ok else "broken")
        if report.ok:
            text = ctx.t("audit.verified", count=report.entries)
            if report.redacted:
                text += " " + ctx.t("audit.redacted", count=report.redacted)
            return Reply(text=text)
        return Reply(text=ctx.t("audit.broken", entry=report.broken_at), ok=False)
    ref = case_ref(args.words[0] if args.words else None)
    entries = audit.for_case(ctx.session, ref)
    ctx.audit("audit.view", case_ref=ref)
    if not entries:
        return Reply(text=ctx.t("audit.none", ref=ref))
    lines = [ctx.t("audit.line", at=ctx.fmt(e.at), actor=f"<@{e.actor}>", action=e.action, result=e.result)
             for e in entries[-100:]]
    return Reply(title=ctx.t("audit.title", ref=ref), text="\n".join(lines))


@command("unit keys rotate", "unit keys rotate", access.ADMIN)
def keys_rotate(ctx: Ctx, args: Args, _case: Case | None) -> Reply:
    only_options(args, set())
    old, new = ctx.svc.vault.rotate(ctx.session)
    count = rekey.reencrypt(ctx.session, ctx.svc.vault)
    ctx.audit("keys.rotate", detail={"old": old, "new": new, "reencrypted": count})
    return Reply(text=ctx.t("keys.rotated", kid=new, count=count))
