"""Order and state at a glance: `case list` puts what needs action first; a closed case says when and why it
closed, never a countdown; `case show` says that its timeline is shortened and how to see all; a closed case
takes no notes."""

from __future__ import annotations

from commands.context import Services
from tests.meetings.mtkit import concern, local, ok, say, seed


def refs_in(text: str) -> list[str]:
    return [w for w in text.replace("·", " ").split() if w.startswith("KE-")]


def test_case_list_puts_overdue_then_nearest_deadline_then_severity_first(svc: Services):
    seed(svc)
    svc.clock.instant = local(2026, 11, 20, 10, 0)
    old_normal = concern(svc, severity="normal")  # deadline 23 Nov 10:00: overdue on the 23rd at 11:00
    svc.clock.instant = local(2026, 11, 23, 9, 0)
    high = concern(svc, severity="high")  # 25 Nov 09:00
    critical = concern(svc, severity="critical")  # 24 Nov 09:00
    svc.clock.instant = local(2026, 11, 23, 9, 30)
    normal = concern(svc, severity="normal")  # 26 Nov 09:30
    referred = concern(svc, severity="critical")
    ok(svc, f"case qualify {referred} level=preventive")
    ok(svc, f"case refer {referred} to=SOF")
    ok(svc, f'followup add {referred} due="2026-11-24 08:30" "Ring til skolen"')  # its nearest deadline
    svc.clock.instant = local(2026, 11, 23, 11, 0)
    listed = ok(svc, "case list").text
    assert refs_in(listed) == [old_normal, referred, critical, high, normal]
    assert "next follow-up" in listed


def test_a_closed_case_says_when_and_why_it_closed_and_never_counts_down(svc: Services):
    seed(svc)
    ref = concern(svc)
    ok(svc, f"case close {ref} reason=unfounded")
    listed = ok(svc, "case list closed").text
    assert "closed 23 Nov 2026 (" in listed and "hours" not in listed and "(in " not in listed
    shown = ok(svc, f"case show {ref}")
    deadline = next(f.value for f in shown.fields if f.label == "Visitation deadline")
    assert "hours" not in deadline and "closed" in deadline


def test_case_show_says_its_timeline_is_shortened_and_all_shows_every_event(svc: Services):
    seed(svc)
    ref = concern(svc)
    for n in range(12):
        ok(svc, f'case note {ref} "Notat nummer {n}"')
    shown = ok(svc, f"case show {ref}")
    cut = next(f.value for f in shown.fields if f.label == "Timeline")
    assert "latest 10 of 14 events" in cut  # received, visitation, 12 notes and f"case show {ref} all" in cut
    everything = ok(svc, f"case show {ref} all")
    assert not any(f.label == "Timeline" for f in everything.fields)
    assert sum("Notat nummer" in f.value for f in everything.fields) == 12
    assert not say(svc, f"case show {ref} alle-sammen").ok
    assert "case show KE-… [all]" in ok(svc, "help case show").text


def test_a_closed_case_takes_no_note(svc: Services):
    seed(svc)
    ref = concern(svc)
    ok(svc, f"case close {ref} reason=unfounded")
    refused = say(svc, f'case note {ref} "Efterskrift"')
    assert not refused.ok and f"case reopen {ref}" in refused.text
