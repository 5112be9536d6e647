"""The Teams activity handlers: a tenant gate in front of everything, messages, card actions, installs.

Callbacks stay thin: decode the activity, call `commands`, render the Reply. Messages are the command language
without the slash; card buttons and forms arrive as `adaptiveCard/action` invokes (Action.Execute) and run as the
clicking user — the router authorises, exactly as for a typed command.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import logging
import re
from typing import Any

from bot.teams import dialogs, files, invokes, render, uploads
from bot.teams.runtime import PLATFORM, TeamsRuntime
from bot.teams.sdk import (
    ActivityBase,
    ActivityContext,
    AdaptiveCard,
    AdaptiveCardActionCardResponse,
    AdaptiveCardActionErrorResponse,
    AdaptiveCardActionMessageResponse,
    AdaptiveCardInvokeActivity,
    App,
    FileConsentInvokeActivity,
    HttpError,
    InnerHttpError,
    InstalledActivity,
    InvokeResponse,
    MessageActivity,
    SearchInvokeActivity,
    TaskFetchInvokeActivity,
    TaskSubmitInvokeActivity,
    extract_tenant_id,
)
from commands.guide.home import home
from commands.messages import t
from commands.reply import Invocation, Reply
from storage import teams as refs

log = logging.getLogger(__name__)

PERSONAL, CHANNEL = "personal", "channel"
_BREAK = re.compile(r"<br\s*/?>|</(?:p|div)>", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][^>]*>")  # markup; `<@id>` (a typed mention) is not a tag
_LOG_SAFE = re.compile(r"[^A-Za-z0-9._:\-]")


def user_id_of(account: Any) -> str:
    """Users are their Entra object id (a GUID, compared in lower case); the Teams id only as a fallback."""
    aad = getattr(account, "aad_object_id", None)
    return aad.lower() if aad else str(getattr(account, "id", "") or "")


def conversation_type(activity: ActivityBase) -> str:
    return activity.conversation.conversation_type or PERSONAL


def channel_of(activity: ActivityBase) -> str:
    """A channel's own conversation id (a message in a thread carries `;messageid=…` after it)."""
    data = getattr(activity, "channel_data", None)
    channel = getattr(data, "channel", None) if data is not None else None
    return (getattr(channel, "id", None) or activity.conversation.id).split(";")[0]


def seen_in(activity: ActivityBase) -> list[refs.Seen]:
    """The conversation references an activity carries: its sender's, and its channel's."""
    service_url, tenant = activity.service_url or "", extract_tenant_id(activity) or ""
    if not service_url:
        return []
    kind, sender, bot_id = conversation_type(activity), activity.from_, activity.recipient.id
    out: list[refs.Seen] = []
    user = user_id_of(sender)
    if user and sender.aad_object_id:
        out.append(refs.Seen(refs.USER, user, service_url, tenant,
                             conversation_id=activity.conversation.id if kind == PERSONAL else None,
                             teams_user_id=sender.id, bot_id=bot_id, display_name=(sender.name or "")[:128]))
    if kind == CHANNEL:
        channel = channel_of(activity)
        out.append(refs.Seen(refs.CHANNEL, channel, service_url, tenant, conversation_id=channel, bot_id=bot_id))
    return out


def request_key(activity: ActivityBase) -> str | None:
    """Teams activity ids are unique per conversation only; a platform retry repeats both."""
    if not activity.id:
        return None
    return hashlib.sha256(f"{activity.conversation.id}|{activity.id}".encode()).hexdigest()[:40]


def _mentioned(activity: MessageActivity) -> list[Any]:
    """The people an activity @mentions (the bot itself left out)."""
    return [e.mentioned for e in activity.entities or []
            if getattr(e, "type", None) == "mention" and getattr(e, "text", None)
            and e.mentioned.id != activity.recipient.id]


async def mentioned_users(rt: TeamsRuntime, activity: MessageActivity) -> dict[str, str]:
    """Teams ids of the mentioned people → their Entra object ids. Teams' mention carries only the Teams id, so
    a person the bot has not met yet is looked up among the conversation's members — and remembered, so the bot
    can open a 1:1 chat with them later (`unit add @Anna` works before Anna has written to the bot)."""
    found: dict[str, str] = {}
    seen: list[refs.Seen] = []
    for mentioned in _mentioned(activity):
        if mentioned.aad_object_id or mentioned.id in found:
            continue
        user = await asyncio.to_thread(rt.resolve_teams_user, mentioned.id)
        if user is None and activity.service_url and conversation_type(activity) != PERSONAL:
            try:
                member = await rt.connector.member(activity.service_url, channel_of(activity), mentioned.id)
            except Exception as exc:  # noqa: BLE001 — unresolved, the mention stays a name and the command says so
                log.warning("a mentioned member could not be looked up (%s)", type(exc).__name__)
                member = None
            if member is not None:
                user = member[0]
                seen.append(refs.Seen(refs.USER, user, activity.service_url, extract_tenant_id(activity) or "",
                                      teams_user_id=mentioned.id, bot_id=activity.recipient.id,
                                      display_name=(member[1] or mentioned.name or "")[:128]))
        if user is not None:
            found[mentioned.id] = user
    await rt.remember(seen)
    return found


def command_text(activity: MessageActivity, resolve: Any) -> str:
    """The typed command: the bot's own @mention dropped, other mentions as `<@id>`, markup removed."""
    text = activity.text or ""
    placeholders: list[str] = []
    for entity in activity.entities or []:
        if getattr(entity, "type", None) != "mention" or not getattr(entity, "text", None):
            continue
        mentioned = entity.mentioned
        if mentioned.id == activity.recipient.id:
            value = ""
        else:
            user = mentioned.aad_object_id.lower() if mentioned.aad_object_id else resolve(mentioned.id)
            value = f"<@{user}>" if user else "@" + (mentioned.name or mentioned.id)
        placeholders.append(value)
        text = text.replace(entity.text, f"\x00{len(placeholders) - 1}\x00", 1)
    text = html.unescape(_TAG.sub("", _BREAK.sub("\n", text))).replace("\xa0", " ")
    text = re.sub("\x00(\\d+)\x00", lambda m: placeholders[int(m.group(1))], text).strip()
    return text[1:].lstrip() if text.startswith("/") else text  # line breaks inside quoted text are kept


def _invocation(rt: TeamsRuntime, activity: ActivityBase, text: str, request_id: str | None) -> Invocation:
    personal = conversation_type(activity) == PERSONAL
    return Invocation(user_id=user_id_of(activity.from_), text=text, platform=PLATFORM,
                      channel_id=None if personal else channel_of(activity),
                      display_name=(activity.from_.name or "")[:128], request_id=request_id)


async def _answer(rt: TeamsRuntime, ctx: ActivityContext[Any], inv: Invocation, reply: Reply) -> str | None:
    """In the 1:1 chat: the answer itself (an open card when it carries details or is a form). Elsewhere: the
    answer in the 1:1 chat and nothing here — unless that chat cannot be reached, then a short note saying so.
    Returns the note (None: no note needed) for a channel or an invoke response."""
    if conversation_type(ctx.activity) == PERSONAL:
        try:
            answer = await rt.activity(reply, inv.user_id, inv.text)
            answer.reply_to_id = ctx.activity.id  # as a Bot Framework reply does; Teams shows no quote for it
            await ctx.send(answer)
        except Exception as exc:  # noqa: BLE001 — the connector failed; Teams shows the user nothing more
            log.warning("answer in the 1:1 chat failed (%s)", type(exc).__name__)
        return render.fallback_text(reply) if not dialogs.in_dialog(reply) else t(rt.lang, "teams.details_in_dialog")
    delivered = await rt.send_private(inv.user_id, reply, inv.text)
    return None if delivered else t(rt.lang, "teams.install_personally")


def _refused() -> InvokeResponse[Any]:
    return InvokeResponse(status=403)


def register_handlers(app: App, rt: TeamsRuntime) -> None:
    async def tenant_gate(ctx: ActivityContext[ActivityBase]) -> InvokeResponse[Any] | None:
        """Only our own tenant: anything else is refused before a single row is read or written."""
        tenant = extract_tenant_id(ctx.activity)
        if not rt.tenant_id or tenant != rt.tenant_id:
            log.warning("refused a Teams activity from tenant %s", _LOG_SAFE.sub("", str(tenant))[:64])
            return _refused()
        await rt.remember(seen_in(ctx.activity))
        await ctx.next()
        return None

    async def on_message(ctx: ActivityContext[MessageActivity]) -> None:
        activity = ctx.activity
        if activity.value is not None and not (activity.text or "").strip():
            return  # a legacy Action.Submit: our cards only use Action.Execute
        text = command_text(activity, (await mentioned_users(rt, activity)).get)
        inv = _invocation(rt, activity, text, request_key(activity))
        attached = uploads.attached_file(activity)
        if attached is not None and conversation_type(activity) == PERSONAL and uploads.takes_file(text):
            await _answer(rt, ctx, inv, await uploads.import_attached(rt, inv, text, attached,
                                                                      str(activity.service_url or "")))
            return
        note = await _answer(rt, ctx, inv, await rt.dispatch(inv))
        if conversation_type(activity) != PERSONAL and note:
            try:
                await ctx.send(note)  # only when the 1:1 chat cannot be reached; never the answer itself
            except Exception as exc:  # noqa: BLE001 — the answer went out; a failed note must not cause a retry
                log.warning("note in the channel failed (%s)", type(exc).__name__)

    async def on_card_action(ctx: ActivityContext[AdaptiveCardInvokeActivity]) -> Any:
        action = ctx.activity.value.action
        data, verb = action.data or {}, action.verb
        meta = render.meta(data)
        if verb == render.FORM:
            return await _submit_form(rt, ctx, meta, render.form_values(data))
        if verb == render.FILE:
            return await _offer_file(rt, ctx, files.token_of(data))
        if verb == render.HOME:  # the home card's refresh: fresh for whoever looks at it
            user_id = user_id_of(ctx.activity.from_)
            reply = await rt.run(home, user_id)
            reply.command = "home"
            card = await rt.card(reply, user_id)
            return AdaptiveCardActionCardResponse(value=AdaptiveCard.model_validate(card))
        if verb == render.RUN and isinstance(meta.get("cmd"), str):
            command = meta["cmd"]
        else:
            return AdaptiveCardActionErrorResponse(status_code=400, value=HttpError(
                code="BadRequest", message="unknown action",
                inner_http_error=InnerHttpError(status_code=400, body=None)))
        inv = _invocation(rt, ctx.activity, command, request_key(ctx.activity))
        note = await _answer(rt, ctx, inv, await rt.dispatch(inv))
        return AdaptiveCardActionMessageResponse(value=render.cut(note or t(rt.lang, "teams.answered_privately"), 200))

    async def on_install(ctx: ActivityContext[InstalledActivity]) -> None:
        if conversation_type(ctx.activity) != PERSONAL:
            return  # installed in a team: channels get notices only, never a greeting with details
        user_id = user_id_of(ctx.activity.from_)
        reply = await rt.run(home, user_id)
        reply.command = "home"  # the welcome is the home card, refreshed whenever it is looked at
        try:
            await ctx.send(await rt.activity(reply, user_id))
        except Exception as exc:  # noqa: BLE001
            log.warning("welcome in the 1:1 chat failed (%s)", type(exc).__name__)

    async def on_file_consent(ctx: ActivityContext[FileConsentInvokeActivity]) -> InvokeResponse[Any]:
        """Allow on a file's consent card puts the file in the user's OneDrive; Decline leaves the offer as
        it is (Save asks again)."""
        value = ctx.activity.value
        token = files.token_of(value.context)
        if value.action == "accept" and token and conversation_type(ctx.activity) == PERSONAL:
            answer = await files.save(rt.svc, user_id_of(ctx.activity.from_), token, value.upload_info)
            try:
                await ctx.send(answer)
            except Exception as exc:  # noqa: BLE001 — the file is saved; only its card did not arrive
                log.warning("the file card in the 1:1 chat failed (%s)", type(exc).__name__)
        return InvokeResponse(status=200)

    async def on_dialog_open(ctx: ActivityContext[TaskFetchInvokeActivity]) -> Any:
        data = ctx.activity.value.data if isinstance(ctx.activity.value.data, dict) else {}
        inv = _invocation(rt, ctx.activity, "", None)
        return await invokes.open_dialog(rt, inv, render.meta(data))

    async def on_dialog_submit(ctx: ActivityContext[TaskSubmitInvokeActivity]) -> Any:
        data = ctx.activity.value.data if isinstance(ctx.activity.value.data, dict) else {}
        inv = _invocation(rt, ctx.activity, "", request_key(ctx.activity))
        return await invokes.submit_dialog(rt, inv, data)

    async def on_search(ctx: ActivityContext[SearchInvokeActivity]) -> Any:
        value = ctx.activity.value
        top = value.query_options.top if value.query_options else None
        return await invokes.search(rt, user_id_of(ctx.activity.from_), value.dataset, value.query_text, top)

    app.use(tenant_gate)
    app.on_dialog_open(on_dialog_open)
    app.on_dialog_submit(on_dialog_submit)
    app.on_card_search(on_search)
    app.on_message(on_message)
    app.on_card_action_execute(on_card_action)
    app.on_install_add(on_install)
    app.on_file_consent(on_file_consent)


async def _submit_form(rt: TeamsRuntime, ctx: ActivityContext[AdaptiveCardInvokeActivity], meta: dict[str, Any],
                       values: dict[str, str]) -> AdaptiveCardActionCardResponse:
    """A form's submit on a card in the chat (posted before forms moved into dialogs): refused → the same card
    again with the errors on it (nothing stored); saved → the card gives way to the answer."""
    inv = _invocation(rt, ctx.activity, "", request_key(ctx.activity))  # a replayed invoke saves once
    again, reply = await invokes.submit_form(rt, inv, meta, values)
    card = again[0] if again is not None else await rt.card(reply, inv.user_id)
    return AdaptiveCardActionCardResponse(value=AdaptiveCard.model_validate(card))


async def _offer_file(rt: TeamsRuntime, ctx: ActivityContext[AdaptiveCardInvokeActivity],
                      token: str) -> AdaptiveCardActionMessageResponse:
    """Save on a file: Teams' consent card, in the 1:1 chat (the only place a bot may hand over a file)."""
    consent = None
    if token and conversation_type(ctx.activity) == PERSONAL:
        consent = await files.consent_request(rt.svc, user_id_of(ctx.activity.from_), token)
    if consent is None:
        return AdaptiveCardActionMessageResponse(value=t(rt.lang, "teams.file_gone"))
    try:
        await ctx.send(consent)
    except Exception as exc:  # noqa: BLE001 — Teams shows the user the note below either way
        log.warning("the file consent card in the 1:1 chat failed (%s)", type(exc).__name__)
        filename = consent.attachments[0].name or ""  # consent_request builds exactly one
        return AdaptiveCardActionMessageResponse(value=t(rt.lang, "teams.file_failed", filename=filename))
    return AdaptiveCardActionMessageResponse(value=t(rt.lang, "teams.file_offered"))
