"""A case's timeline as sentences in the reader's words: each event kind has its sentence in the catalogs
(`timeline.*`), its details filled in as words (a pseudonym in groups, an org's name, a date, a mention).

An event kind without a sentence (one a later release adds before its sentence) still reads as words: the
event's name and its details as "name: value" pairs, never as codes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from commands import markup
from commands.context import Ctx
from storage.pseudonym import format_pseudonym

# The kind of word each detail's value takes, where its key alone does not say (storage codes → labels).
VALUE_KINDS = {"severity": "severity", "track": "track", "source": "source", "age": "age", "org": "org",
               "to": "org", "level": "level", "reason": "close_reason", "kind": "offer_kind",
               "response": "response", "found": "yes_no", "linked": "yes_no", "consent": "yes_no",
               "deadline_met": "yes_no", "outcome": "yes_no", "switch": "yes_no", "basis": "basis",
               "relation": "relation", "result": "course_result", "missed": "yes_no"}
_KIND_OVERRIDES = {("state", "from"): "state", ("state", "to"): "state", ("track", "from"): "track",
                   ("track", "to"): "track", ("followup", "kind"): "followup_kind",
                   ("outcome", "kind"): "followup_kind", ("severity", "from"): "severity",
                   ("severity", "to"): "severity", ("person_referred", "to"): "org"}


def value_kind(event: str, key: str) -> str | None:
    """The kind of word a detail's value takes in an event (`label(kind, value)`), or None: shown as it is."""
    return _KIND_OVERRIDES.get((event, key), VALUE_KINDS.get(key))
_PEOPLE = ("owner", "mentor", "assign", "member", "user")


Person = Callable[[str], str]  # a platform user id → how the reader sees that person


def mention(user_id: str) -> str:
    """In chat a person is a mention (a value each platform renders as the person's name)."""
    return markup.mention(user_id)


def _word(ctx: Ctx, event: str, key: str, value: Any, person: Person = mention) -> str:
    """One detail's value as a reader reads it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return ctx.label("yes_no", "yes" if value else "no")
    if isinstance(value, list | tuple):
        return ", ".join(_word(ctx, event, key, v, person) for v in value) or "—"
    if key == "subject" and isinstance(value, str) and len(value) == 8:
        return format_pseudonym(value)
    if key in _PEOPLE and isinstance(value, str):
        return person(value)
    if key in ("deadline", "at", "due_at") and isinstance(value, str):
        try:
            return ctx.fmt(datetime.fromisoformat(value))
        except ValueError:
            return value
    kind = value_kind(event, key)
    return ctx.label(kind, value) if kind else str(value)


def _words(ctx: Ctx, event: str, data: dict[str, Any], person: Person) -> dict[str, str]:
    words = {key: _word(ctx, event, key, value, person) for key, value in data.items()}
    if isinstance(data.get("hours"), int):
        words["hours"] = ctx.tn("n.hours", data["hours"])
    return words


def _received(ctx: Ctx, d: dict[str, Any], w: dict[str, str]) -> list[str]:
    return ["timeline.received" if "hours" in d else "timeline.received.plain"]


def _subject_added(ctx: Ctx, d: dict[str, Any], w: dict[str, str]) -> list[str]:
    return ["timeline.subject_added"] + (["timeline.subject_added.linked"] if d.get("linked") else [])


def _state(ctx: Ctx, d: dict[str, Any], w: dict[str, str]) -> list[str]:
    return ["timeline.state.reason" if d.get("reason") else "timeline.state"]


def _checked(ctx: Ctx, d: dict[str, Any], w: dict[str, str]) -> list[str]:
    found = d.get("found")
    return ["timeline.checked.found" if found is True else "timeline.checked.none" if found is False
            else "timeline.checked"]


def _referred(ctx: Ctx, d: dict[str, Any], w: dict[str, str]) -> list[str]:
    keys = ["timeline.referred"] + (["timeline.referred.owner"] if d.get("owner") else [])
    if d.get("deadline_met") is not None:
        keys.append("timeline.referred.met" if d["deadline_met"] else "timeline.referred.missed")
    return keys


def _step(ctx: Ctx, d: dict[str, Any], w: dict[str, str]) -> list[str]:
    if d.get("added"):
        return ["timeline.step.added"]
    if d.get("assign"):
        return ["timeline.step.assigned"]
    return ["timeline.step.done" if d.get("state") == "done" else "timeline.step.skipped"]


def _steps_forced(ctx: Ctx, d: dict[str, Any], w: dict[str, str]) -> list[str]:
    w["count"] = ctx.tn("n.unfinished_steps", len(d.get("steps") or []))
    return ["timeline.steps_forced"]


def _decision(ctx: Ctx, d: dict[str, Any], w: dict[str, str]) -> list[str]:
    return ["timeline.decision.due" if d.get("due") else "timeline.decision"]


def _followup(ctx: Ctx, d: dict[str, Any], w: dict[str, str]) -> list[str]:
    return ["timeline.followup.meeting" if d.get("meeting") else "timeline.followup"]


def _outcome(ctx: Ctx, d: dict[str, Any], w: dict[str, str]) -> list[str]:
    yes = bool(d.get("outcome"))
    if d.get("kind") == "assess_6m":
        return ["timeline.outcome.not_at_risk" if yes else "timeline.outcome.at_risk"]
    return ["timeline.outcome.in_education" if yes else "timeline.outcome.not_in_education"]


def _offer_response(ctx: Ctx, d: dict[str, Any], w: dict[str, str]) -> list[str]:
    if d.get("response") == "accepted":
        return ["timeline.offer_accepted.consent" if d.get("consent") else "timeline.offer_accepted"]
    return ["timeline.offer_declined"]


def _track(ctx: Ctx, d: dict[str, Any], w: dict[str, str]) -> list[str]:
    keys = ["timeline.track"]
    if d.get("switch") is True:
        w["removed"] = ctx.tn("n.steps", len(d.get("removed") or []))
        w["added"] = ctx.tn("n.steps", len(d.get("added") or []))
        keys.append("timeline.track.switched")
    elif d.get("switch") is False:
        keys.append("timeline.track.kept")
    return keys


def _one(key: str) -> Callable[[Ctx, dict[str, Any], dict[str, str]], list[str]]:
    return lambda _ctx, _d, _w: [key]


SENTENCES: dict[str, Callable[[Ctx, dict[str, Any], dict[str, str]], list[str]]] = {
    "received": _received, "subject_added": _subject_added, "state": _state, "checked": _checked,
    "referred": _referred, "step": _step, "steps_forced": _steps_forced, "decision": _decision,
    "followup": _followup, "outcome": _outcome, "offer_response": _offer_response, "track": _track,
    "level": _one("timeline.level"), "visitation_restarted": _one("timeline.visitation_restarted"),
    "note": _one("timeline.note"), "offer": _one("timeline.offer"), "assigned": _one("timeline.assigned"),
    "mentor_session": _one("timeline.mentor_session"), "engagement_ended": _one("timeline.engagement_ended"),
}
# The sentences above, for the catalog test: every one of them must be in both languages.
KEYS = (
    "timeline.received", "timeline.received.plain", "timeline.subject_added", "timeline.subject_added.linked",
    "timeline.state", "timeline.state.reason", "timeline.checked", "timeline.checked.found",
    "timeline.checked.none", "timeline.referred", "timeline.referred.owner", "timeline.referred.met",
    "timeline.referred.missed", "timeline.step.added", "timeline.step.assigned", "timeline.step.done",
    "timeline.step.skipped", "timeline.steps_forced", "timeline.decision", "timeline.decision.due",
    "timeline.followup", "timeline.followup.meeting", "timeline.outcome.not_at_risk", "timeline.outcome.at_risk",
    "timeline.outcome.in_education", "timeline.outcome.not_in_education", "timeline.offer_accepted",
    "timeline.offer_accepted.consent", "timeline.offer_declined", "timeline.track", "timeline.track.switched",
    "timeline.track.kept", "timeline.level", "timeline.visitation_restarted", "timeline.note", "timeline.offer",
    "timeline.assigned", "timeline.mentor_session", "timeline.engagement_ended",
)


def sentence(ctx: Ctx, kind: str, data: dict[str, Any], text: str = "", person: Person = mention) -> str:
    """One event as the reader reads it; its free text (a note, a decision, a skip reason) after a colon.
    `person` writes a person named in the event (a document passes one that writes names, not mentions)."""
    words = _words(ctx, kind, data, person)
    build = SENTENCES.get(kind)
    said = ""
    if build is not None:
        keys = build(ctx, data, words)
        parts = [ctx.t(key, **words) for key in keys]
        if all(part != key and "{" not in part for part, key in zip(parts, keys, strict=True)):
            said = " ".join(parts)
    if not said:
        said = _described(ctx, kind, data, words)
    return f"{said.rstrip('.')}: {text}" if text else said


def _described(ctx: Ctx, kind: str, data: dict[str, Any], words: dict[str, str]) -> str:
    """An event without its sentence: its name, then each detail as "name: value" in words."""
    details = "; ".join(f"{ctx.label('event_key', key)}: {words[key]}" for key in sorted(data)
                        if data[key] not in (None, "", [], {}))
    name = ctx.label("event", kind)
    name = name[:1].upper() + name[1:]
    return f"{name} ({details})." if details else f"{name}."
