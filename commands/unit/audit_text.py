"""An audit entry as a sentence: who did what to the case, in the reader's words ("3. dec. 2026 kl. 10.12 ·
@bo (SSP) oprettede sagen"). `unit audit KE-…` shows these; the subject access letter can write the same
sentences with names instead of mentions (`person`).

An action without a sentence (one a later release adds) reads as the command it came from, as a command
hint (`case severity`): the reader can look it up with `help`, and no code appears as a word."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlmodel import select

from commands.cases.timeline import Person, mention
from commands.context import Ctx
from storage.models import AuditEntry, Member

SYSTEM_ACTORS = frozenset({"koordinator", "cli"})  # the worker (commands/retention/erase.WORKER) and the CLI

# action → its sentence's key; a callable picks among variants by the entry's detail and result.
_Pick = Callable[[dict[str, Any], str], str]


def _fixed(key: str) -> _Pick:
    return lambda _detail, _result: key


ACTIONS: dict[str, _Pick] = {
    "access.denied": _fixed("audit.did.access_denied"),
    "audit.view": _fixed("audit.did.audit_view"),
    "case.view": lambda d, _r: {"mentor": "audit.did.case_view_mentor",
                                "tombstone": "audit.did.case_view_tombstone"}.get(str(d.get("view")),
                                                                                  "audit.did.case_view"),
    "case.create": _fixed("audit.did.case_create"),
    "case.assign": _fixed("audit.did.case_assign"),
    "case.checked": _fixed("audit.did.case_checked"),
    "case.close": _fixed("audit.did.case_close"),
    "case.hold": _fixed("audit.did.case_hold"),
    "case.release": _fixed("audit.did.case_release"),
    "case.note": _fixed("audit.did.case_note"),
    "case.offer": _fixed("audit.did.case_offer"),
    "case.qualify": lambda d, _r: "audit.did.case_qualify_level" if d.get("level") else "audit.did.case_qualify",
    "case.refer": _fixed("audit.did.case_refer"),
    "case.reopen": _fixed("audit.did.case_reopen"),
    "case.respond": _fixed("audit.did.case_respond"),
    "case.step": lambda d, _r: ("audit.did.case_step_assign" if d.get("assign") else
                                "audit.did.case_step_skip" if d.get("state") == "skip" else "audit.did.case_step"),
    "case.step.add": _fixed("audit.did.case_step_add"),
    "case.steps": _fixed("audit.did.case_steps"),
    "case.subject_add": _fixed("audit.did.case_subject_add"),
    "case.track": lambda _d, r: "audit.did.case_track_asked" if r == "asked" else "audit.did.case_track",
    "case.erase": _fixed("audit.did.case_erase"),
    "followup.ack": _fixed("audit.did.followup_ack"),
    "followup.add": _fixed("audit.did.followup_add"),
    "followup.done": _fixed("audit.did.followup_done"),
    "followup.snooze": _fixed("audit.did.followup_snooze"),
    "mentor.end": _fixed("audit.did.mentor_end"),
    "mentor.log": _fixed("audit.did.mentor_log"),
    "minutes.add": _fixed("audit.did.minutes_add"),
    "agenda.add": _fixed("audit.did.agenda_add"),
    "agenda.remove": _fixed("audit.did.agenda_remove"),
    "agenda.move": _fixed("audit.did.agenda_move"),
}
# Results that are not "ok" and that the sentence itself does not say.
RESULTS = {"refused": "audit.result.refused", "found": "audit.result.found", "not_found": "audit.result.not_found",
           "broken": "audit.result.broken"}
_VALUE_KINDS = {"org": "org", "to": "org", "level": "level", "reason": "close_reason", "kind": "offer_kind",
                "response": "response", "from": "track", "view": ""}


def _words(ctx: Ctx, action: str, detail: dict[str, Any], person: Person) -> dict[str, str]:
    words: dict[str, str] = {}
    for key, value in detail.items():
        if key in ("mentor", "assign", "user") and isinstance(value, str):
            words[key] = person(value)
        elif action == "followup.done" and key == "kind":
            words[key] = ctx.label("followup_kind", value)
        elif key in _VALUE_KINDS and _VALUE_KINDS[key]:
            words[key] = ctx.label(_VALUE_KINDS[key], value)
        else:
            words[key] = str(value)
    if action == "case.track" and "to" in detail:
        words["to"] = ctx.label("track", detail["to"])
    return words


def did(ctx: Ctx, entry: AuditEntry, person: Person = mention) -> str:
    """What the actor did, as the rest of a sentence after the actor ("oprettede sagen")."""
    try:
        detail = json.loads(entry.detail or "{}")
    except ValueError:
        detail = {}
    pick = ACTIONS.get(entry.action)
    said = ""
    if pick is not None:
        key = pick(detail, entry.result)
        said = ctx.t(key, **_words(ctx, entry.action, detail, person))
        if said == key or "{" in said:  # a redacted entry lacks its detail: named by its command below
            said = ""
    if not said:
        said = ctx.t("audit.did.other", command=entry.action.replace(".", " ").replace("_", " "))
    if entry.result != "ok" and entry.result in RESULTS and entry.action != "access.denied":
        said += " " + ctx.t(RESULTS[entry.result])
    return said


def actor_text(ctx: Ctx, actor: str, members: dict[str, Member], person: Person = mention) -> str:
    """Who: a member as a mention with their org; the bot itself in words; anyone else as a mention."""
    if actor in SYSTEM_ACTORS:
        return ctx.t("audit.actor.system")
    member = members.get(actor)
    if member is None:
        return person(actor)
    return ctx.t("audit.actor.member", who=person(actor), org=ctx.label("org", member.org))


def lines(ctx: Ctx, entries: list[AuditEntry], person: Person = mention) -> list[str]:
    """One line an entry: "3. dec. 2026 kl. 10.12 · @bo (SSP) oprettede sagen"."""
    actors = {e.actor for e in entries}
    members = {m.user_id: m for m in ctx.session.exec(select(Member).where(Member.user_id.in_(actors)))}  # type: ignore[attr-defined]
    return [ctx.t("audit.entry", at=ctx.fmt(e.at), actor=actor_text(ctx, e.actor, members, person),
                  did=did(ctx, e, person)) for e in entries]
