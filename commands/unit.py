"""The unit itself: members and roles, the audit log, key rotation."""

from __future__ import annotations

import re

from sqlmodel import col, select

from commands import access
from commands.common import mention, only_options
from commands.context import Ctx
from commands.errors import Refused, UsageError
from commands.parsing import case_ref, enum_value, org_code
from commands.registry import command
from commands.reply import Reply
from commands.tokenizer import GUID, Args, user_ref
from storage import audit, rekey
from storage.enums import Role
from storage.models import Case, Member

SLACK_ID = re.compile(r"[UW][A-Z0-9]{6,}")  # a Slack member id


@command("unit members", "unit members", access.LEADS)
def members(ctx: Ctx, args: Args, _case: Case | None) -> Reply:
    only_options(args, set())
    rows = ctx.session.exec(select(Member).where(Member.active == True)  # noqa: E712
                            .order_by(col(Member.role), col(Member.org), col(Member.user_id)))
    lines = [ctx.t("members.line", user=mention(m), role=m.role, org=m.org, name=m.display_name or "—")
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


def platform_of(user_id: str, default: str) -> str | None:
    """A Teams user is named by their Entra object id (a GUID), which no other platform uses; typed on Teams,
    anything else must be a Slack member id, or it names nobody (None): e.g. an @mention Teams could not
    resolve to a person."""
    if GUID.fullmatch(user_id):
        return "teams"
    if default == "teams":
        return "slack" if SLACK_ID.fullmatch(user_id) else None
    return default


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
        platform = platform_of(user_id, ctx.inv.platform)
        if platform is None:
            raise UsageError("not_a_teams_user", user=user_id[:64])
        existing = Member(user_id=user_id, platform=platform, role=role.value, org=org, display_name=name,
                          created_at=ctx.now())
    else:
        existing.role, existing.org, existing.active = role.value, org, True
        existing.display_name = name or existing.display_name
    ctx.session.add(existing)
    ctx.session.flush()
    ctx.audit("unit.add", detail={"user": user_id, "role": role.value, "org": org})
    ctx.send_dm(user_id, Reply(text=ctx.t("members.welcome", role=role.value, org=org)))
    return Reply(text=ctx.t("members.added", user=mention(existing), role=role.value, org=org))


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
            return Reply(text=ctx.t("audit.verified", count=report.entries))
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
