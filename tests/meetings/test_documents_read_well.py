"""Agendas and minutes that can be sent as they are (issue 20): no Markdown syntax in the PDF, deadlines in days
and hours, each person's age beside their pseudonym in the same order, empty sections in words, counts in the
language's plural forms."""

from __future__ import annotations

import re

from sqlmodel import select

from commands.context import Services
from storage.db import unit_of_work
from storage.models import Case, Subject
from storage.pseudonym import format_pseudonym
from tests.meetings.mtkit import SERIES, concern, local, ok, seed
from tests.meetings.test_meeting_documents import language, pages


def danish_series(svc: Services) -> Services:
    da = language(svc, "da")
    seed(da)
    da.clock.instant = local(2026, 11, 20, 10, 0)
    ok(da, SERIES.format(policy="skip"))
    return da


def md_of(reply) -> str:  # noqa: ANN001
    [md] = [a for a in reply.attachments if a.filename.endswith(".md")]
    return md.data.decode("utf-8")


def test_the_agenda_pdf_prints_no_backticks_and_counts_one_decision_in_the_singular(svc: Services):
    da = danish_series(svc)
    ref = concern(da)
    da.clock.instant = local(2026, 12, 3, 9, 30)
    ok(da, f'minutes {ref} "Skolen orienteres"')  # M-2026-001 is left open, with one decision
    da.clock.instant = local(2026, 12, 10, 10, 0)
    whole = " ".join(pages(ok(da, "agenda M-2026-002 format=pdf").attachments[0].data, "agenda-open.pdf"))
    assert "M-2026-001 (3. dec. 2026) er ikke lukket endnu (1 beslutning) — meeting close M-2026-001" in whole
    assert "`" not in whole and "**" not in whole and "1 beslutninger" not in whole


def test_agenda_deadlines_are_in_days_and_hours(svc: Services):
    da = danish_series(svc)
    da.clock.instant = local(2026, 11, 23, 8, 0)
    overdue = concern(da, severity="critical")  # 24 hours: due 24 Nov 08:00
    later = concern(da, severity="normal")  # 72 hours: due 26 Nov 08:00
    da.clock.instant = local(2026, 11, 25, 10, 0)
    md = md_of(ok(da, "agenda M-2026-001 format=md"))
    [row] = [line for line in md.splitlines() if line.startswith(f"| {overdue} ")]
    assert "overskredet med 1 dag og 2 timer" in row
    [row] = [line for line in md.splitlines() if line.startswith(f"| {later} ")]
    assert "(om 22 timer)" in row
    assert not re.search(r"\d+ t\)", md), "no deadline in bare hours like (630 t)"


def test_a_case_shows_each_persons_age_in_the_order_of_the_pseudonyms(svc: Services):
    da = danish_series(svc)
    ref = concern(da, age="25+,0-14,18-24,15-17")
    with unit_of_work(da.engine) as session:
        case = session.exec(select(Case).where(Case.ref == ref)).one()
        people = {s.pseudonym: s.age_band for s in session.exec(select(Subject).where(Subject.case_id == case.id))}
    md = md_of(ok(da, "agenda M-2026-001 format=md"))
    [row] = [line for line in md.splitlines() if line.startswith(f"| {ref} ")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    shown = cells[1].split(", ")
    ages = cells[3].split(", ")
    assert sorted(shown) == sorted(format_pseudonym(p) for p in people) and len(ages) == len(shown) == 4
    assert ages == [f"{people[p.replace('-', '')]} år" for p in shown]


def test_minutes_without_decisions_say_so_in_words(svc: Services):
    da = danish_series(svc)
    da.clock.instant = local(2026, 12, 3, 10, 0)
    closed = ok(da, "meeting close M-2026-001")
    [pdf] = [a for a in closed.attachments if a.filename.endswith(".pdf")]
    whole = " ".join(pages(pdf.data, "minutes-empty.pdf"))
    assert "Beslutninger (0) Ingen beslutninger." in whole and "0 beslutninger" in whole
    assert "- -" not in whole and "•" not in whole
    assert "Ingen beslutninger." in md_of(closed)


def test_minutes_count_one_decision_in_the_singular(svc: Services):
    da = danish_series(svc)
    ref = concern(da)
    da.clock.instant = local(2026, 12, 3, 9, 30)
    ok(da, f'minutes {ref} "Mentor tilbydes" due="2026-12-15 09:00"')
    closed = ok(da, "meeting close M-2026-001")
    md = md_of(closed)
    assert "· 1 beslutning ·" in md and "1 beslutninger" not in md
    assert "Opfølgninger (1)" in md


def test_minutes_markdown_keeps_no_script_or_raw_link_from_a_decision(svc: Services):
    da = danish_series(svc)
    ref = concern(da)
    da.clock.instant = local(2026, 12, 3, 9, 30)
    ok(da, f'minutes {ref} "<script>alert(1)</script> [klik](http://evil.example) http://evil.example"')
    md = md_of(ok(da, "meeting close M-2026-001"))
    assert not re.search(r"(?<!\\)<script>|(?<!\\)\]\(http|http://evil", md)
    assert "\\<script>alert(1)\\</script> \\[klik\\](http\\://evil.example)" in md
