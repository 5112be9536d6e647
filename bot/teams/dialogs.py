"""Teams dialogs (task modules): what carries case details or a form opens in a dialog, which Teams does not keep.

Teams has no ephemeral messages: whatever a bot posts in a chat is a record in Microsoft 365 (retention,
eDiscovery) long after koordinator erased the case. So an answer with decrypted free text or person data
(`DETAILS`, or a Reply marked `details`) and every form are posted as a small *open* card — the reference and an
*Åbn* button — and shown in a dialog: the button is an `Action.Submit` with `msteams.type = task/fetch`, the
bot answers the `task/fetch` invoke with the card, and the card's own buttons come back as `task/submit`.
Only invoke responses carry the details; nothing of them is posted.

A typed command cannot open a dialog (a dialog opens only from an invoke), hence the open card. The answer
already computed is kept in this process for the open card's lifetime (`OpenCardAnswers`, never in the database); after
that, or in another process, *Åbn* runs the command again — as the clicking user, with their rights.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from bot.teams import render
from commands.messages import t
from commands.reply import Reply

DETAILS, OPEN, HOME, open_action = render.DETAILS, render.OPEN, render.HOME, render.open_action
_REF = re.compile(r"\b(?:KE|H)-\d{4}-\d{4}\b|\bM-[0-9A-Za-z-]+\b")


def in_dialog(reply: Reply) -> bool:
    """Does this answer belong in a dialog rather than in the chat?"""
    return reply.form is not None or (reply.ok and (reply.details or reply.command in DETAILS))


def reference(reply: Reply, command: str) -> str:
    """The reference an answer is about (for the open card): from the command first, else from its title."""
    for text in (command, reply.title or "", reply.text):
        match = _REF.search(text)
        if match:
            return match.group(0)
    return ""


def open_card(reply: Reply, command: str, lang: str, token: str = "") -> dict[str, Any]:
    """What the chat keeps of a dialog answer: the reference (or the form's title) and *Åbn*."""
    if reply.form is not None:
        body = [render._text(reply.form.title, weight="Bolder"), render._text(t(lang, "teams.form_in_dialog"),
                                                                             isSubtle=True, spacing="None")]
        title = t(lang, "teams.open_form")
    else:
        ref = reference(reply, command)
        body = [render._text(t(lang, "teams.details_title", ref=ref) if ref else t(lang, "teams.details_title_plain"),
                             weight="Bolder"),
                render._text(t(lang, "teams.details_in_dialog"), isSubtle=True, spacing="None")]
        title = t(lang, "teams.open")
    return render._card(body, [open_action(title, command, token)], [])


def stub_card(lang: str, shown: str, reopen: str) -> dict[str, Any]:
    """What a message with details becomes after TEAMS_DETAILS_TTL: when it was shown, and *Åbn igen*."""
    body = [render._text(t(lang, "teams.stub", shown=shown), isSubtle=True)]
    actions = [open_action(t(lang, "teams.open_again"), reopen)] if reopen else []
    return render._card(body, actions, [])


def submit_actions(card: dict[str, Any]) -> dict[str, Any]:
    """The same card for a dialog: Action.Execute does not run inside a dialog, so each becomes an Action.Submit
    (a `task/submit` invoke carrying the verb and our data); Action.ShowCard's inner cards too."""
    def convert(action: dict[str, Any]) -> dict[str, Any]:
        if action.get("type") == "Action.Execute":
            data = dict(action.get("data") or {})
            meta = dict(data.get(render.META) or {})
            meta["verb"] = action.get("verb", "")
            data[render.META] = meta
            out = {k: v for k, v in action.items() if k not in ("verb", "data", "type")}
            return {"type": "Action.Submit", **out, "data": data}
        if action.get("type") == "Action.ShowCard":
            return {**action, "card": submit_actions(action["card"])}
        return action

    card = dict(card)
    if card.get("actions"):
        card["actions"] = [convert(a) for a in card["actions"]]
    card["body"] = [{**e, "actions": [convert(a) for a in e["actions"]]} if e.get("type") == "ActionSet" else e
                    for e in card.get("body") or []]
    card.pop("refresh", None)
    return card


def task_card(card: dict[str, Any], title: str, size: str = "large") -> dict[str, Any]:
    """The invoke response that shows `card` in a dialog (`task: continue`)."""
    return {"task": {"type": "continue", "value": {
        "title": render.cut(title or "koordinator", 64), "width": size, "height": size,
        "card": {"contentType": render.CARD_CONTENT_TYPE, "content": card}}}}


def task_message(text: str) -> dict[str, Any]:
    """The invoke response that closes the dialog with a short message."""
    return {"task": {"type": "message", "value": render.cut(text, 200)}}


@dataclass
class Kept:
    user_id: str
    reply: Reply
    until: float


@dataclass
class OpenCardAnswers:
    """Answers computed for an open card, kept in this process only, for their user only, until they expire: so
    *Åbn* shows the answer that was asked for without running (and auditing) the command twice."""

    ttl: float
    limit: int = 2000
    _kept: dict[str, Kept] = field(default_factory=dict)

    def keep(self, user_id: str, reply: Reply) -> str:
        now = time.monotonic()
        if len(self._kept) >= self.limit:
            self._kept = {k: v for k, v in self._kept.items() if v.until > now}
            while len(self._kept) >= self.limit:
                self._kept.pop(next(iter(self._kept)))
        token = secrets.token_urlsafe(16)
        self._kept[token] = Kept(user_id, reply, now + self.ttl)
        return token

    def take(self, token: str, user_id: str) -> Reply | None:
        """The kept answer, for its own user only; gone after its time."""
        kept = self._kept.get(token)
        if kept is None or kept.user_id != user_id:
            return None
        if kept.until <= time.monotonic():
            self._kept.pop(token, None)
            return None
        return kept.reply
