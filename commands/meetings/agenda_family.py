"""A family on the agenda (SPEC.md §10): one item with each person, and the disclosures since the previous
meeting — categories and the recipient only, never a note."""

from __future__ import annotations

from commands.meetings.agenda_build import Agenda, Person
from commands.messages import label, org_name, t
from storage.profile import Profile
from storage.pseudonym import format_pseudonym


def family_person(lang: str, person: Person, case_track: str) -> str:
    """`7KQ2-M9XD (voksen · forælder)`: a family's person on the agenda — their own track where it is not the
    case's, and their relation; the age group stands in the ages column, in the same order."""
    words = [label(lang, "track", person.track) if person.track and person.track != case_track else None,
             label(lang, "relation", person.relation) if person.relation else None]
    shown = " · ".join(w for w in words if w)
    return format_pseudonym(person.pseudonym) + (f" ({shown})" if shown else "")


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
