"""One way to ask before a surprising change (SPEC.md §10).

A use case that would move a meeting far or into the past, cancel a meeting with decisions, remove a member
who owns open work or close a case with open follow-ups calls `ask` before it changes anything. Unless the
command came back with the answer to exactly that question, `ask` returns the question: what will happen, and
two buttons — the same command with `confirm=<token>`, and with `confirm=no`. The router takes the `confirm`
option off every command (`Ctx.confirm`) and answers `confirm=no` itself, so Cancel never runs anything.

The token is a keyed hash of who asks, the command and the state the question described: a token from
another command, another person or an outdated question (a decision recorded since, the meeting moved) does
not confirm, and the question is asked again as things now stand. The console answers the last question with
a `yes`/`ja` line (bot/console.py).
"""

from __future__ import annotations

import hashlib
import hmac
import re

from commands.context import Ctx
from commands.reply import Button, Reply

OPTION = "confirm"
NO = ("no", "nej")
YES_ACTION, NO_ACTION = "confirm.yes", "confirm.no"
_OPTION = re.compile(r"\s+confirm=\S+\s*$", re.IGNORECASE)  # the answer rides at the end: quoted text keeps its words


def bare_command(text: str) -> str:
    """The command as typed, without the `confirm=` answer a button put at its end."""
    return _OPTION.sub("", " " + text).strip()


def token(ctx: Ctx, state: str) -> str:
    message = "\x1f".join((ctx.inv.user_id, bare_command(ctx.inv.text), state)).encode()
    key = hmac.new(ctx.svc.keys.master_key, b"koordinator/confirm", hashlib.sha256).digest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:12]


def confirmed(ctx: Ctx, state: str) -> bool:
    return ctx.confirm is not None and hmac.compare_digest(ctx.confirm.lower(), token(ctx, state))


def ask(ctx: Ctx, state: str, lines: list[str], confirm_label: str, *, danger: bool = False) -> Reply | None:
    """None when this exact question was answered yes; otherwise the question (nothing has changed).

    `state` names everything the question describes; `lines` say what will happen, in the reader's words."""
    if confirmed(ctx, state):
        return None
    expected = token(ctx, state)
    base = bare_command(ctx.inv.text)
    head = [ctx.t("confirm.stale")] if ctx.confirm else []
    text = "\n".join([*head, *lines, ctx.t("confirm.question")])
    return Reply(title=ctx.t("confirm.title"), text=text, buttons=[
        Button(confirm_label, YES_ACTION, expected, f"{base} {OPTION}={expected}",
               style="danger" if danger else "primary"),
        Button(ctx.t("confirm.cancel"), NO_ACTION, "", f"{base} {OPTION}=no"),
    ])


def cancelled(ctx: Ctx) -> Reply:
    return Reply(text=ctx.t("confirm.cancelled"))


def pending_command(reply: Reply) -> str | None:
    """The command a `yes` answers, when the reply is a question."""
    return next((b.command for b in reply.buttons if b.action_id == YES_ACTION and b.command), None)
