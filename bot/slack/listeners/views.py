"""Modal submissions. Validation errors must travel in the ack itself, so here — and only here — the use
case runs before the ack, within a budget well under Slack's 3 seconds; past it, the modal closes and the
outcome (saved, or why not) arrives as a private message instead.
"""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import render, uploads
from bot.slack.answer import Where
from bot.slack.runtime import SlackRuntime, invocation, runtime_of
from commands.messages import t
from commands.reply import FormResult, Reply

SUBMIT_BUDGET_S = 2.0
ERROR_TEXT = 1000


def _inline_errors(view: dict[str, Any], errors: dict[str, str]) -> dict[str, str]:
    """Errors keyed by input block; a field the modal does not show is reported on the first input."""
    inputs = [b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"]
    out: dict[str, str] = {}
    for name, text in errors.items():
        block = name if name in inputs else (inputs[0] if inputs else name)
        out[block] = render.cut((out[block] + " " if block in out else "") + text, ERROR_TEXT)
    return out


def _errors_reply(rt: SlackRuntime, errors: dict[str, str]) -> Reply:
    lines = [t(rt.lang, "slack.form_not_saved"), *(f"• {name}: {text}" for name, text in errors.items())]
    return Reply(text="\n".join(lines), ok=False)


async def _fetch_then_submit(rt: SlackRuntime, client: AsyncWebClient, inv: Any, form_id: str,
                             values: dict[str, str], context: dict[str, str],
                             files: dict[str, list[dict[str, Any]]], view: dict[str, Any]) -> FormResult:
    """An uploaded file becomes its field's text, as if it had been pasted (a spreadsheet the field accepts:
    `base64:…`); a file that cannot be read is that field's error, and the form is not submitted."""
    for name, uploaded in files.items():
        binary = uploads.accepts_binary(view, name)
        try:
            values[name] = await uploads.read_text(client, uploaded, uploads.MAX_BINARY_BYTES if binary
                                                   else uploads.MAX_BYTES, binary=binary)
        except uploads.UploadError as exc:
            return FormResult(errors={name: t(rt.lang, exc.key, **exc.params)})
    return await rt.submit(inv, form_id, values, context)


def _submission_key(view: dict[str, Any]) -> str | None:
    """A view_submission's once-only key: the view's id and hash (a replay of the same signed body repeats
    both; a corrected resubmission after errors is let through because errors store nothing, not even this)."""
    if not view.get("id"):
        return None
    return f"view:{view.get('id', '')}:{view.get('hash', '')}"


async def on_form_submission(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                             client: AsyncWebClient, context: Any) -> None:
    rt = runtime_of(context)
    meta = render.decode_metadata(view.get("private_metadata"))
    inv = invocation(body.get("user") or {}, "", channel_id=meta.get("ch"), request_id=_submission_key(view))
    state = (view.get("state") or {}).get("values") or {}
    values, files = render.form_values(state), uploads.file_inputs(state)
    work = (_fetch_then_submit(rt, client, inv, str(meta.get("form", "")), values, meta.get("ctx") or {}, files,
                               view)
            if files else rt.submit(inv, str(meta.get("form", "")), values, meta.get("ctx") or {}))
    task = asyncio.ensure_future(work)
    try:
        result: FormResult = await asyncio.wait_for(asyncio.shield(task), SUBMIT_BUDGET_S)
    except TimeoutError:
        await ack()
        result = await task
        reply = _errors_reply(rt, result.errors) if result.errors else result.reply
    else:
        if result.errors:
            await ack(response_action="errors", errors=_inline_errors(view, result.errors))
            return
        await ack()
        reply = result.reply
    if reply is not None:
        await rt.answer_privately(reply, Where(inv.user_id, inv.channel_id, meta.get("ru")))


def register(app: AsyncApp) -> None:
    app.view(render.FORM_CALLBACK)(on_form_submission)
