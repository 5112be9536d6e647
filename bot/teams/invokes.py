"""The Teams invokes behind dialogs and pickers: `task/fetch` (open a dialog), `task/submit` (a button or a form
inside it) and `application/search` (the people picker filtering as you type).

Each runs as the person who clicked, through the router like a typed command; what it shows goes back in the
invoke response only — Teams keeps no message of it (see bot/teams/dialogs.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlmodel import select

from bot.teams import dialogs, files, reach, render
from bot.teams.runtime import PLATFORM, TeamsRuntime
from commands.members import people
from commands.messages import t
from commands.reply import Invocation, Reply
from storage.db import unit_of_work
from storage.models import Member

log = logging.getLogger(__name__)


def _ok(body: dict[str, Any]) -> dict[str, Any]:
    return {"status": 200, "body": body}


def _search(rt: TeamsRuntime, user_id: str, query: str, limit: int) -> list[tuple[str, str]] | None:
    """Members for the picker — for an active member only (nobody else learns who is in the unit)."""
    with unit_of_work(rt.svc.engine) as session:
        asking = session.exec(select(Member).where(Member.user_id == user_id)).first()
        if asking is None or not asking.active:
            return None
        return people.search(session, query, limit)


def invocation(user_id: str, text: str, channel: str | None, name: str) -> Invocation:
    return Invocation(user_id=user_id, text=text, platform=PLATFORM, channel_id=channel, display_name=name[:128])


async def dialog_of(rt: TeamsRuntime, reply: Reply, user_id: str) -> dict[str, Any]:
    """The dialog that shows a reply: its form, or the whole answer (details included)."""
    if reply.form is not None:
        card = render.form_card(reply.form, rt.lang, reply.text)
        return dialogs.task_card(dialogs.submit_actions(card), reply.form.title)
    card = await rt.card(reply, user_id, full=True)
    return dialogs.task_card(dialogs.submit_actions(card), reply.title or dialogs.reference(reply, "") or "koordinator")


async def open_dialog(rt: TeamsRuntime, inv: Invocation, meta: dict[str, Any]) -> dict[str, Any]:
    """task/fetch: the answer an open card stands for (kept, or computed now as the clicking user)."""
    command = meta.get("cmd")
    if not isinstance(command, str) or not command.strip():
        return _ok(dialogs.task_message(t(rt.lang, "teams.dialog_gone")))
    token = meta.get("token")
    reply = rt.shown.take(token, inv.user_id) if isinstance(token, str) else None
    if reply is None:
        reply = await rt.dispatch(Invocation(**{**inv.__dict__, "text": command}))
    return _ok(await dialog_of(rt, reply, inv.user_id))


async def submit_dialog(rt: TeamsRuntime, inv: Invocation, data: dict[str, Any]) -> dict[str, Any]:
    """task/submit: a form in a dialog (errors → the same form again, nothing stored), or a button in it."""
    meta = render.meta(data)
    verb = meta.get("verb")
    if verb == dialogs.OPEN:  # a button inside a dialog that opens another one: Teams submits it instead
        return await open_dialog(rt, inv, meta)
    if verb == render.FORM:
        again, reply = await submit_form(rt, inv, meta, render.form_values(data))
        if again is not None:
            return _ok(dialogs.task_card(dialogs.submit_actions(again[0]), again[1]))
        return _ok(await dialog_of(rt, reply, inv.user_id))
    if verb == render.FILE:  # a file can only be handed over in the 1:1 chat: its consent card goes there
        return _ok(dialogs.task_message(await offer_in_chat(rt, inv.user_id, files.token_of(data))))
    if verb == render.RUN and isinstance(meta.get("cmd"), str):
        command = meta["cmd"]
    elif verb == dialogs.HOME:
        command = "home"
    else:
        return {"status": 400}
    reply = await rt.dispatch(Invocation(**{**inv.__dict__, "text": command}))
    return _ok(await dialog_of(rt, reply, inv.user_id))


async def submit_form(rt: TeamsRuntime, inv: Invocation, meta: dict[str, Any], values: dict[str, str]
                      ) -> tuple[tuple[dict[str, Any], str] | None, Reply]:
    """A form's submission, from a dialog or from a card in the chat: refused → (the same form card with every
    error under its field and what may travel back filled in, its title), nothing stored; else (None, the
    answer)."""
    form = render.form_from(meta)
    raw = meta.get("ctx")  # card data comes back from the client: trusted for nothing, checked like input
    context = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    result = await rt.submit(inv, str(meta.get("form", "")), values, context)
    if result.errors and form is not None:
        card = render.form_card(form, rt.lang, str(meta.get("intro", "")), values, result.errors, result.discard)
        return (card, form.title), Reply(text="", ok=False)
    reply = result.reply or Reply(text=t(rt.lang, "teams.form_not_saved"), ok=False)
    if result.errors:
        reply = Reply(text="\n".join([t(rt.lang, "teams.form_not_saved"), *result.errors.values()]), ok=False)
    return None, reply


async def offer_in_chat(rt: TeamsRuntime, user_id: str, token: str) -> str:
    consent = await files.consent_request(rt.svc, user_id, token) if token else None
    if consent is None:
        return t(rt.lang, "teams.file_gone")
    try:
        where = await reach.personal(rt.svc, rt.connector, user_id)
        if where is None:
            return t(rt.lang, "teams.install_personally")
        await rt.connector.post(where[0], where[1], consent)
    except Exception as exc:  # noqa: BLE001 — the connector failed: say so in the dialog
        log.warning("the file consent card in the 1:1 chat failed (%s)", type(exc).__name__)
        return t(rt.lang, "teams.file_failed", filename=consent.attachments[0].name or "")
    return t(rt.lang, "teams.file_offered")


async def search(rt: TeamsRuntime, user_id: str, dataset: str | None, query: str, top: int | None
                 ) -> dict[str, Any]:
    """application/search: the people picker's typeahead over the unit's members."""
    if dataset != render.MEMBERS_DATASET:
        return _ok({"statusCode": 200, "type": "application/vnd.microsoft.search.searchResponse",
                    "value": {"results": []}})
    found = await asyncio.to_thread(_search, rt, user_id, query or "", min(max(top or 15, 1), 15))
    results = [{"title": name, "value": uid} for uid, name in found or []]
    return _ok({"statusCode": 200, "type": "application/vnd.microsoft.search.searchResponse",
                "value": {"results": results}})
