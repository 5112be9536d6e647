"""A family on the agenda (SPEC.md §10): one item with each person, and the disclosures since the previous
meeting — categories and the recipient only, never a note."""

from __future__ import annotations

from commands.meetings.agenda_build import Agenda, Person
from commands.messages import label, org_name, t
from storage.profile import Profile
from storage.pseudonym import format_pseudonym


def family_person(lang: str, person: Person) -> str:
    """`7KQ2-M9XD (barn, 15-17 år, søskende)`: a family's person on the agenda."""
    words = [label(lang, "track", person.track) if person.track else None, label(lang, "age", person.age),
             label(lang, "relation", person.relation) if person.relation else None]
    return f"{format_pseudonym(person.pseudonym)} ({', '.join(w for w in words if w)})"


def disclosure_lines(lang: str, agenda: Agenda, profile: Profile | None = None) -> list[str]:
    """Per case on the agenda: to whom which categories were disclosed since the previous meeting."""
    lines = []
    for item in agenda.items():
        by_org: dict[str, dict[str, None]] = {}
        for org, what in agenda.disclosed.get(item.case.id, []):
            by_org.setdefault(org, {}).update(dict.fromkeys(what))
        if by_org:
            parts = [f"{org_name(lang, org, profile)}: {', '.join(label(lang, 'disclosure', c) for c in what)}"
                     for org, what in by_org.items()]
            lines.append(t(lang, "agenda.disclosure_line", ref=item.case.ref, shared="; ".join(parts)))
    return lines
