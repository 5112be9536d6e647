"""Calendar files in the unit's language, and kept once in the console (issue 20): the VTIMEZONE's COMMENT is in
the unit's language (icalendar writes an English one), and the console saves a file sent to every member once,
not one copy per recipient."""

from __future__ import annotations

import io
from pathlib import Path

from icalendar import Calendar

from bot.terminal import print_outbox, save_files
from commands.context import Services
from commands.reply import Attachment, Reply
from tests.meetings.mtkit import SERIES, ok, queued, seed
from tests.meetings.test_meeting_documents import language


def comments(data: bytes) -> list[str]:
    return [str(zone.get("COMMENT")) for zone in Calendar.from_ical(data).walk("VTIMEZONE")]


def test_the_calendar_files_comment_is_in_the_units_language(svc: Services):
    for lang, words in (("da", "Tidszonen gælder fra 1. jan. 2025 til 1. jan. 2032."),
                        ("en", "This time zone applies from 1 Jan 2025 to 1 Jan 2032.")):
        unit = language(svc, lang)
        if lang == "da":
            seed(unit)
        ok(unit, SERIES.format(policy="skip").replace("Koordineringsmøde", f"Møde {lang}"))
        [ics] = [r.attachments[0] for kind, _target, r in queued(unit) if kind == "user"][-1:]
        assert comments(ics.data) == [words], lang
        assert b"only works from" not in ics.data


def test_the_console_keeps_one_copy_of_a_file_sent_to_every_member(svc: Services, _files_dir: Path):
    seed(svc)
    ok(svc, SERIES.format(policy="skip"))
    print_outbox(svc, io.StringIO())  # four DMs, each with the same invitation
    files = sorted(p.name for p in _files_dir.iterdir())
    assert files == ["series-1.ics"]


def test_a_file_of_the_same_name_with_other_bytes_is_kept_beside_it(tmp_path: Path):
    first = save_files(Reply(text="", attachments=[Attachment("a.ics", "text/calendar", b"one")]), str(tmp_path))
    same = save_files(Reply(text="", attachments=[Attachment("a.ics", "text/calendar", b"one")]), str(tmp_path))
    other = save_files(Reply(text="", attachments=[Attachment("a.ics", "text/calendar", b"two")]), str(tmp_path))
    assert first == same and other != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-2.ics", "a.ics"]
    assert Path(other[0]).read_bytes() == b"two"
