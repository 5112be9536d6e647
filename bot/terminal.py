"""What the console prints: a reply as terminal text (its files saved to FILES_DIR), and the outbox as the
console delivers it, or as copies beside Slack or Teams."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

from bot import escaping
from commands.context import Services
from commands.members import platforms
from commands.messages import label, t
from commands.reply import Reply
from storage import outbox
from storage.db import unit_of_work
from storage.models import OutboxMessage


def save_files(reply: Reply, files_dir: str | None) -> list[str]:
    """Write every file the reply carries into FILES_DIR (never over an earlier file, readable by the owner
    only: minutes and agendas are sensitive); the paths, in order. A file already there with the same name and
    the same bytes is the same file (one `.ics` sent to every member): it is kept once, not copied again."""
    if not files_dir or not reply.attachments:
        return []
    folder = Path(files_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for a in reply.attachments:
        stem, suffix = os.path.splitext(Path(a.filename).name or "file")
        for n in range(1, 10_000):
            path = folder / (f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}")
            if _same_file(path, a.data):
                paths.append(str(path))
                break
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            with os.fdopen(fd, "wb") as f:
                f.write(a.data)
            paths.append(str(path))
            break
    return paths


def _same_file(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def render(reply: Reply, saved: list[str] | None = None, bold: bool = False) -> str:
    """Terminal text (bot/escaping.py): a mention reads as a person is written in a terminal, `@U123`; no
    control or direction characters from what users typed; `*emphasis*` without asterisks (bold on a TTY)."""
    return escaping.console(_render(reply, saved), bold=bold)


def is_tty(out: TextIO) -> bool:
    """Bold only where a terminal shows it: a pipe or a file gets plain words."""
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


def _render(reply: Reply, saved: list[str] | None = None) -> str:
    lines: list[str] = []
    if reply.title:
        lines.append(f"== {reply.title} ==")
    if reply.text:
        lines.append(reply.text)
    width = max((len(f.label) for f in reply.fields), default=0)
    under_value = " " * (width + 5)  # a value of several lines stays in its column
    for f in reply.fields:
        first, *more = str(f.value).split("\n")
        lines.append(f"  {f.label.ljust(width)} : {first}")
        lines.extend(under_value + line for line in more)
    if reply.buttons:
        lines.append("  " + "  ".join(f"[{b.label}: {b.command}]" for b in reply.buttons if b.command))
    for n, a in enumerate(reply.attachments):
        where = f" → {saved[n]}" if saved and n < len(saved) else ""
        lines.append(f"  (📎 {a.filename}, {len(a.data)} bytes{where})")
    return "\n".join(lines)


def framed(header: str, body: str) -> str:
    return "\n".join([f"┌─ {header}", *("│ " + line for line in body.splitlines()), "└─"])


def _header(lang: str, row: OutboxMessage) -> str:
    header = (t(lang, "console.channel", channel=label(lang, "channel", row.target))
              if row.target_kind == "channel" else t(lang, "console.dm", user=f"@{row.target}"))
    if row.replaces_id is not None:
        header += " " + t(lang, "console.updated")
    return header


def show_copies(svc: Services, out: TextIO, shown: set[int]) -> int:
    """Beside Slack or Teams: print a copy of each queued post and DM once, and leave the row to the
    platform's delivery — printing it delivers nothing, so it is not marked sent."""
    lang = svc.lang
    via = ", ".join(sorted(platforms.configured(svc.settings)))
    copies: list[str] = []
    with unit_of_work(svc.engine) as session:
        for row in outbox.unsent(session):
            if row.id in shown:
                continue
            shown.add(row.id)  # type: ignore[arg-type]
            reply = Reply.from_json(outbox.payload(session, svc.vault, row))
            header = _header(lang, row) + " " + t(lang, "console.copy", platforms=via)
            copies.append(framed(header, render(reply, bold=is_tty(out))))
    for text in copies:
        print(text, file=out, flush=True)
    return len(copies)


def print_outbox(svc: Services, out: TextIO) -> int:
    """In the console every queued post and DM is printed, marked as such, and marked sent."""
    lang, count = svc.lang, 0
    while True:
        claimed: list[tuple[int, str]] = []
        with unit_of_work(svc.engine) as session:  # claim, and commit the claim before printing
            now = svc.clock.now()
            for row in outbox.due(session, now):
                if not outbox.claim(session, row.id, now):  # type: ignore[arg-type]
                    continue
                reply = Reply.from_json(outbox.payload(session, svc.vault, row))
                claimed.append((row.id, framed(_header(lang, row),  # type: ignore[arg-type]
                                                render(reply, save_files(reply, svc.settings.files_dir),
                                                       bold=is_tty(out)))))
        if not claimed:
            return count
        for row_id, text in claimed:
            print(text, file=out, flush=True)  # no database lock is held while "sending"
            with unit_of_work(svc.engine) as session:
                outbox.mark_sent_by_id(session, row_id, svc.clock.now(), f"console-{row_id}")
            count += 1
