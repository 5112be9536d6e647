"""The console: a terminal chat on the same commands, for trying the bot out (and for tests via a pipe)."""

from __future__ import annotations

import asyncio
import base64
import getpass
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from sqlmodel import select

from bot.terminal import framed, is_tty, print_outbox, render, save_files, show_copies
from commands import confirm
from commands.context import Services
from commands.members import platforms
from commands.messages import label, t
from commands.reply import Form, FormField, Invocation, Reply
from commands.router import dispatch, open_empty_unit, submit_form
from scheduler.worker import due_now
from storage.db import unit_of_work
from storage.models import Member

CANCEL = "."
YES = ("yes", "ja", "y", "j")
CANCEL_WORDS = ("afbryd", "cancel")
CLEAR = "-"  # empties a field (Enter keeps what it holds)
PICKED = ("date", "time", "checkbox", "file")  # kinds a platform offers a picker for; here a hint on what to type
BINARY_TYPES = ("xlsx",)  # a file field that takes these gets a file that is not text as `base64:…` (as on Slack)
SWEEP_SECONDS = 30


class Console:
    def __init__(self, svc: Services, user_id: str, out: TextIO, lines: Iterator[str],
                 secret_prompt: Callable[[str], str] | None = None) -> None:
        self.svc, self.user_id, self.out, self.lines = svc, user_id, out, lines
        self.secret_prompt = secret_prompt
        self._lock = threading.Lock()
        self._shown: set[int] = set()  # outbox rows whose copy this console has printed
        self.pending: str | None = None  # the command a `yes` line confirms (commands.confirm)

    @property
    def lang(self) -> str:
        """The unit's language, read anew (an imported profile in another language applies at once)."""
        return self.svc.lang

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def bootstrap(self) -> None:
        """On an empty database the console user becomes admin, so a newcomer can try everything."""
        if open_empty_unit(self.svc, Invocation(self.user_id, "", platform="console", display_name=self.user_id)):
            self.say(t(self.lang, "console.first_admin", user=self.user_id))
        with unit_of_work(self.svc.engine) as session:
            member = session.exec(select(Member).where(Member.user_id == self.user_id)).first()
            role = label(self.lang, "role", member.role) if member else "—"
        self.say(t(self.lang, "console.welcome", user=self.user_id, role=role))

    def show_private(self, reply: Reply) -> None:
        self.say(framed(t(self.lang, "console.private"), self._text(reply)))

    def _text(self, reply: Reply) -> str:
        return render(reply, save_files(reply, self.svc.settings.files_dir), bold=is_tty(self.out))

    def deliver_outbox(self) -> None:
        """The worker runs in-process: sweep due follow-ups and agendas, then print what is queued."""
        with self._lock:
            due_now(self.svc)
            if platforms.configured(self.svc.settings):  # beside Slack or Teams: they deliver, we show a copy
                show_copies(self.svc, self.out, self._shown)
                deliver_through_platforms(self.svc, self.out)
            else:
                print_outbox(self.svc, self.out)

    def handle(self, text: str) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:  # the last reply asked: `yes`/`ja` confirms it, anything else cancels it
            answer = text.strip().lower().rstrip(".!")
            if answer in YES:
                text = pending
            else:
                self.say(t(self.lang, "console.confirm_dropped"))
                if answer in confirm.NO:
                    return
        reply = dispatch(self.svc, Invocation(user_id=self.user_id, text=text, platform="console"))
        self.show_private(reply) if reply.private else self.say(self._text(reply))
        self.pending = confirm.pending_command(reply)
        if self.pending is not None:
            self.say(t(self.lang, "console.confirm_hint"))
        if reply.form is not None:
            self.fill(reply.form)
        self.deliver_outbox()

    def _ask(self, field: FormField, before: str = "") -> str | None:
        """One field; Enter keeps what it holds (its default, or what was typed before). None: cancelled."""
        label = field.label + (" *" if field.required else "")
        if field.options:
            label += f" [{t(self.lang, 'console.choices')}: " + ", ".join(
                f"{i}={field.option_label(i - 1)}" for i, _o in enumerate(field.options, 1)) + "]"
        if field.hint:
            label += f" ({field.hint})"
        if field.kind in PICKED:
            label += f" ({t(self.lang, f'console.kind.{field.kind}')})"
        secret = field.never_stored and field.kind != "file"  # a file's path is no secret; its content may be
        shown = _shown_value(self.lang, field, before) if not secret else ""
        prompt = label + (f" [{shown}]" if shown else "") + ": "
        if secret and self.secret_prompt is not None:
            answer = self.secret_prompt(prompt)
        else:
            print(prompt, end="", file=self.out, flush=True)
            answer = next(self.lines, None)
            if answer is None:
                return None
            if not sys.stdin.isatty():  # piped: show the answer as typed — never an identifier, only its line end
                print("" if secret else answer, file=self.out)
        answer = answer.strip()
        if answer == CANCEL or answer.lower() in CANCEL_WORDS:
            return None
        if not answer and not secret:
            return before
        if answer == CLEAR:
            return ""
        return _resolve_choices(field, answer)

    def fill(self, form: Form) -> None:
        """Ask every field, submit; on errors re-ask only the wrong fields (each shows what was typed), until
        the form is saved or the user cancels (`afbryd`/`cancel`/`.`). Nothing typed is thrown away."""
        self.say(f"-- {form.title} -- {t(self.lang, 'console.form_cancel')}")
        values: dict[str, str] = {f.name: f.value for f in form.fields}
        pending = list(form.fields)
        while True:
            for field in pending:
                answer = self._ask(field, values.get(field.name, ""))
                if answer is None:
                    self.say(t(self.lang, "console.form_cancelled"))
                    return
                values[field.name] = answer
            submitted, unread = _with_files(form, values)
            if unread:
                for name in unread:
                    self.say(f"! {next(f.label for f in form.fields if f.name == name)}: "
                             f"{t(self.lang, 'console.file_unreadable')}")
                pending = [f for f in form.fields if f.name in unread]
                continue
            result = submit_form(self.svc, Invocation(user_id=self.user_id, text="", platform="console"),
                                 form.form_id, submitted, form.context)
            if not result.errors:
                if result.reply is not None:
                    self.show_private(result.reply)
                return
            labels = {f.name: f.label for f in form.fields}
            for name, message in result.errors.items():
                self.say(f"! {labels[name]}: {message}" if name in labels else f"! {message}")
            for name in result.discard:
                values[name] = ""
            pending = [f for f in form.fields if f.name in result.errors] or list(form.fields)

    def run(self) -> None:
        self.bootstrap()
        self.deliver_outbox()
        for line in self.lines:
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            if not sys.stdin.isatty():
                self.say(f"> {text}")
            self.handle(text)


def deliver_through_platforms(svc: Services, out: TextIO) -> int:
    """The console's own delivery pass through the configured platforms' clients (as the worker would)."""
    from bot.delivery import deliver_pending

    try:
        return asyncio.run(deliver_pending(svc))
    except Exception as exc:  # noqa: BLE001 — the rows stay queued; the next pass or the worker sends them
        logging.getLogger(__name__).warning("delivery through the platform failed (%s); messages stay queued",
                                            type(exc).__name__)
        print(t(svc.lang, "console.not_delivered"), file=out, flush=True)
        return 0


def _with_files(form: Form, values: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """A file field's answer is a path on this machine: the form gets the file's text (a spreadsheet the field
    takes: `base64:…`), as a Slack upload would give it; the fields whose file cannot be read."""
    out, unread = dict(values), []
    for field in form.fields:
        path = values.get(field.name, "")
        if field.kind != "file" or not path:
            continue
        try:
            data = Path(path).expanduser().read_bytes()
        except OSError:
            unread.append(field.name)
            continue
        try:
            out[field.name] = data.decode("utf-8")
        except UnicodeDecodeError:
            if not set(BINARY_TYPES) & set(field.file_types):
                unread.append(field.name)
                continue
            out[field.name] = "base64:" + base64.b64encode(data).decode("ascii")
    return out, unread


def _shown_value(lang: str, field: FormField, value: str) -> str:
    """What a field holds, as the reader knows it (the word for a choice's code)."""
    if field.kind == "checkbox":
        return t(lang, "console.yes") if value == "yes" else (t(lang, "console.no") if value else "")
    if not value or not field.options:
        return value
    words = [field.option_label(field.options.index(v)) if v in field.options else v for v in value.split(",")]
    return ", ".join(words)


def _resolve_choices(field: FormField, answer: str) -> str:
    if not field.options or not answer:
        return answer
    picked = []
    for part in answer.split(",") if field.kind == "multiselect" else [answer]:
        part = part.strip()
        if part.isdigit() and 1 <= int(part) <= len(field.options):
            picked.append(field.options[int(part) - 1])
        else:
            picked.append(part)
    return ",".join(picked)


def stdin_lines() -> Iterator[str]:
    if sys.stdin.isatty():
        while True:
            try:
                yield input("> ")
            except EOFError:
                print()
                return
    for line in sys.stdin:
        yield line.rstrip("\n")


def run_console(svc: Services, user_id: str) -> None:
    interactive = sys.stdin.isatty()
    console = Console(svc, user_id, sys.stdout, stdin_lines(), getpass.getpass if interactive else None)
    if interactive:  # reminders arrive while the user is typing, as printed DMs
        stop = threading.Event()

        def worker() -> None:
            while not stop.wait(SWEEP_SECONDS):
                try:
                    console.deliver_outbox()
                except Exception:  # noqa: BLE001, S112 — the next round retries
                    continue

        threading.Thread(target=worker, daemon=True, name="console-worker").start()
    console.run()
