"""The unit's members by name: the one small resolver every platform's typed commands and people pickers share.

A member is named by a mention or a user id anywhere; where those fail, by display name — what `unit add …
name="…"` stored, or what Teams told the bot (storage/teams.py). Case, accents and extra spaces do not matter;
a full name wins over a first name; a name that fits several members is refused with the candidates.
"""

from __future__ import annotations

import unicodedata

from sqlmodel import Session, col, select

from commands.context import Ctx
from commands.errors import UsageError
from commands.tokenizer import user_ref
from storage import teams as teams_refs
from storage.models import Member


def _norm(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("ø", "o").replace("æ", "ae"))
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


def choices(session: Session) -> list[tuple[str, str]]:
    """(user id, display name) of every active member, by name: what a people picker offers."""
    members = list(session.exec(select(Member).where(Member.active == True)))  # noqa: E712
    names = teams_refs.names(session, {m.user_id for m in members})
    return sorted(((m.user_id, names.get(m.user_id) or m.display_name or m.user_id[:12]) for m in members),
                  key=lambda pair: (_norm(pair[1]), pair[0]))


def by_name(session: Session, text: str) -> list[Member]:
    """The active members `text` names: every one whose full name it is, else every one whose name it starts
    (a first name). Empty: nobody; more than one: the caller asks which."""
    wanted = _norm(text.lstrip("@"))
    if not wanted:
        return []
    pairs = choices(session)
    full = [uid for uid, name in pairs if _norm(name) == wanted]
    found = full or [uid for uid, name in pairs if (_norm(name) + " ").startswith(wanted + " ")]
    if not found:
        return []
    members = {m.user_id: m for m in session.exec(select(Member).where(col(Member.user_id).in_(found)))}
    return [members[uid] for uid in found if uid in members]


def search(session: Session, query: str, limit: int = 15) -> list[tuple[str, str]]:
    """Members whose name contains `query` (a people picker filtering as you type), best matches first."""
    wanted = _norm(query)
    pairs = choices(session)
    if not wanted:
        return pairs[:limit]
    starts = [p for p in pairs if any(w.startswith(wanted) for w in [_norm(p[1])] + _norm(p[1]).split())]
    contains = [p for p in pairs if wanted in _norm(p[1]) and p not in starts]
    return (starts + contains)[:limit]


def member_by_ref(ctx: Ctx, raw: str | None, option: str) -> Member:
    if not raw:
        raise UsageError("missing_option", option=option, choices="@user")
    user_id = user_ref(raw)
    member = ctx.session.exec(select(Member).where(Member.user_id == user_id)).first()
    if member is None:  # not a mention or an id: a member's display name
        named = by_name(ctx.session, raw)
        if len(named) > 1:
            raise UsageError("ambiguous_member", name=raw.strip()[:64],
                             names=", ".join(sorted(m.display_name or m.user_id for m in named)))
        member = named[0] if named else None
    if member is None or not member.active:
        raise UsageError("unknown_member", user=user_id[:64])
    return member


def member_by_id(ctx: Ctx, member_id: int | None) -> Member | None:
    return None if member_id is None else ctx.session.get(Member, member_id)
