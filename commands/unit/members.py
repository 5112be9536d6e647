"""The unit itself: members and roles, the audit log, key rotation."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from commands import access
from commands.context import Ctx
from commands.errors import Refused, UsageError
from commands.markup import mention
from commands.members import platforms
from commands.members.people import member_by_ref
from commands.parsing import case_ref, enum_value, only_options, org_code
from commands.registry import command, form
from commands.reply import FormResult, Reply
from commands.tokenizer import Args, user_ref
from commands.unit import audit_text, handover
from storage import audit, rekey
from storage.enums import Role
from storage.models import Member


@command("unit members", "unit members", access.LEADS)
def members(ctx: Ctx, args: Args) -> Reply:
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
    """The platform the id names by its shape (commands.members.platforms); an id that names none is refused: on
    Teams most likely an @mention Teams could not resolve to a person."""
    platform = platforms.by_shape(user_id, ctx.settings)
    if platform is None:
        if ctx.inv.platform == "teams":
            raise UsageError("not_a_teams_user", user=user_id[:64])
        raise UsageError("user_platform", user=user_id[:64],
                         platforms=", ".join(sorted(platforms.configured(ctx.settings))))
    return platform


@command("unit add", 'unit add @user role=ROLE org=ORG [name="…"]', access.LEADS)
def add(ctx: Ctx, args: Args) -> Reply:
    only_options(args, {"role", "org", "name"}, words=1)
    user_id = _target(args)
    role = enum_value(Role, args.options.get("role"), "role")
    org = org_code(ctx.profile.org_codes(), args.options.get("org"), "org", ctx.profile)
    name = args.options.get("name", "").strip()[:128]
    existing = ctx.session.exec(select(Member).where(Member.user_id == user_id)).first()
    if ctx.member.role != Role.admin and (role is Role.admin or (existing and existing.role == Role.admin)):
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


def _leaving(ctx: Ctx, user_id: str) -> Member:
    """The active member to remove, if the caller may remove them."""
    member = ctx.session.exec(select(Member).where(Member.user_id == user_id, Member.active == True)).first()  # noqa: E712
    if member is None:
        raise UsageError("unknown_member", user=user_id)
    if member.role == Role.admin:
        if ctx.member.role != Role.admin:
            raise Refused("admin_only")
        admins = ctx.session.exec(select(Member.id).where(Member.role == Role.admin, Member.active == True)).all()  # noqa: E712
        if len(admins) <= 1:
            raise UsageError("last_admin")
    return member


def _removed(ctx: Ctx, member: Member, handed: list[str], audit_to: dict[str, object]) -> Reply:
    member.active = False
    ctx.session.add(member)
    ctx.audit("unit.remove", detail={"user": member.user_id, **audit_to})
    return Reply(text="\n".join([ctx.t("members.removed", user=mention(member)), *handed]))


@command("unit remove", "unit remove @user [to=@user|each]", access.LEADS)
def remove(ctx: Ctx, args: Args) -> Reply:
    only_options(args, {"to"}, words=1)
    member = _leaving(ctx, _target(args))
    each = args.options.get("to", "").strip().lower() == handover.EACH
    heir = member_by_ref(ctx, args.options["to"], "to") if "to" in args.options and not each else None
    if heir is not None and heir.id == member.id:
        raise UsageError("handover_self", user=mention(member))
    work = handover.open_work(ctx, member)
    if work.empty:
        return _removed(ctx, member, [], {})
    if each:  # a receiver per case: the form's submit is the confirmation
        return Reply(text=ctx.t("handover.form_intro", user=mention(member)),
                     form=handover.pick_form(ctx, member, work))
    question = handover.question(ctx, member, heir, work)
    if question is not None:
        return question
    handed = handover.hand_over(ctx, member, heir, work)
    return _removed(ctx, member, [handed], {"to": heir.user_id if heir else "secretariat", "handed": work.count})


@form(handover.FORM, access.LEADS)
def submit_handover(ctx: Ctx, values: dict[str, str], context: dict[str, str]) -> FormResult:
    member = _leaving(ctx, context.get("user", ""))
    work = handover.open_work(ctx, member)
    fields = handover.pick_fields(ctx, member, work)
    if work.state() != context.get("state"):  # the work changed since the form opened: show it as it is now
        return FormResult(errors={fields[0].name if fields else "rest": ctx.t("handover.changed")})
    heirs: dict[str, Member | None] = {}
    errors: dict[str, str] = {}
    for field in fields:
        value = (values.get(field.name) or handover.SECRETARIAT).strip()
        heir = None if value == handover.SECRETARIAT else ctx.session.exec(
            select(Member).where(Member.user_id == value, Member.active == True)).first()  # noqa: E712
        if value not in field.options or (value != handover.SECRETARIAT and heir is None):
            errors[field.name] = ctx.t("handover.bad_choice")
        heirs[field.name] = heir
    if errors:
        return FormResult(errors=errors)
    handed = [handover.hand_over(ctx, member, heirs[name], part) for name, part in handover.split(work)]
    return FormResult(reply=_removed(ctx, member, handed, {"to": "each", "handed": work.count}))


@command("unit audit", "unit audit KE-… | unit audit verify", access.LEADS)
def audit_cmd(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set(), words=1)
    if args.words and args.words[0].lower() == "verify":
        report = audit.verify(ctx.session)
        ctx.audit("audit.verify", result="ok" if report.ok else "broken")
        if report.ok:
            text = ctx.t("audit.verified_n", entries=ctx.tn("n.entries", report.entries))
            if report.redacted:
                text += " " + ctx.t("audit.redacted_n", entries=ctx.tn("n.entries", report.redacted))
            return Reply(text=text)
        return Reply(text=ctx.t("audit.broken", entry=report.broken_at), ok=False)
    ref = case_ref(args.words[0] if args.words else None)
    entries = audit.for_case(ctx.session, ref)
    ctx.audit("audit.view", case_ref=ref)
    if not entries:
        return Reply(text=ctx.t("audit.none", ref=ref))
    return Reply(title=ctx.t("audit.title", ref=ref), text="\n".join(audit_text.lines(ctx, entries[-100:])))


@command("unit keys rotate", "unit keys rotate", access.ADMIN)
def keys_rotate(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set())
    old, new = ctx.svc.vault.rotate(ctx.session)
    count = rekey.reencrypt(ctx.session, ctx.svc.vault)
    ctx.audit("keys.rotate", detail={"old": old, "new": new, "reencrypted": count})
    return Reply(text=ctx.t("keys.rotated_n", kid=new, fields=ctx.tn("n.fields", count)))


def add_first_admin(ctx: Ctx, via: str) -> Member:
    """The invoking user becomes an admin member (an ADMIN_USERS user's first command, or the console on an
    empty database); a simultaneous first command (on PostgreSQL) finds the row the other one made instead of
    failing on the unique user id."""
    try:
        with ctx.session.begin_nested():
            platform = platforms.by_shape(ctx.inv.user_id, ctx.settings) or ctx.inv.platform  # `console --as U…`
            member = Member(user_id=ctx.inv.user_id, platform=platform, role=Role.admin.value,
                            org=ctx.profile.secretariat_org, display_name=ctx.inv.display_name[:128],
                            created_at=ctx.now())
            ctx.session.add(member)
            ctx.session.flush()
    except IntegrityError:
        found = ctx.session.exec(select(Member).where(Member.user_id == ctx.inv.user_id)).first()
        assert found is not None
        return found
    ctx.audit("unit.add", detail={"user": member.user_id, "role": "admin", "via": via})
    return member
