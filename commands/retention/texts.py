"""The data lifecycle's part of the one message catalog (merged into commands.messages.CATALOG on import)."""

from __future__ import annotations

from commands.messages import CATALOG

TEXTS: dict[str, tuple[str, str]] = {
    "help.group.subject": ("registrerede personers rettigheder: indsigt og sletning (admin)",
                           "data subjects' rights: access and erasure (admin)"),
    "help.case.hold": ("admin: udsæt sletningen af en sag, fx mens en indsigtsanmodning eller klage behandles",
                       "admin: suspend a case's erasure, e.g. while an access request or complaint is open"),
    "help.case.release": ("admin: ophæv en tilbageholdelse; sagen slettes igen efter reglerne",
                          "admin: lift a hold; the case is erased by the rules again"),
    "help.unit.retention": ("tilbageholdte sager, og hvilke lukkede sager der slettes hvornår",
                            "held cases, and which closed cases are erased when"),
    "help.subject.export": ("admin: privat formular (identifikator og formål) → én fil med alt om personen",
                            "admin: private form (identifier and purpose) → one file with everything on the person"),
    "help.subject.erase": ("admin: privat formular → slet personen i alle sager, efter en bekræftelse",
                           "admin: private form → erase the person across all cases, after a confirmation"),
    "usage.case_erased": ("{ref} blev slettet {day}: en slettet sag kan ikke genåbnes eller ændres.",
                          "{ref} was erased on {day}: an erased case cannot be reopened or changed."),
    "usage.hold_reason": ('Angiv en begrundelse: `reason="…"` (fx en verserende indsigtsanmodning).',
                          'Give a reason: `reason="…"` (e.g. an open access request).'),
    "usage.already_held": ("{ref} er allerede tilbageholdt siden {since}. Ophæv først med `case release {ref}`.",
                           "{ref} is already on hold since {since}. Lift it first with `case release {ref}`."),
    "usage.not_held": ("{ref} er ikke tilbageholdt.", "{ref} is not on hold."),
    "hold.done": ("{ref} er tilbageholdt: den slettes ikke, før holdet ophæves (`case release {ref}`).",
                  "{ref} is on hold: it will not be erased until the hold is lifted (`case release {ref}`)."),
    "hold.released": ("Holdet på {ref} er ophævet. {due}", "The hold on {ref} is lifted. {due}"),
    "hold.due": ("Sagen slettes {day}.", "The case is erased on {day}."),
    "hold.due_open": ("Sagen er åben; fristen løber fra lukningen.", "The case is open; the clock runs from closing."),
    "field.hold": ("Tilbageholdt", "On hold"),
    "field.erasure": ("Slettes", "Erased on"),
    "hold.line": ("siden {since} af {by}: {reason}", "since {since} by {by}: {reason}"),
    "tombstone": ("{ref} · slettet {day}", "{ref} · erased {day}"),
    "tombstone.show": ("Sagen er slettet (opbevaringsfrist eller sletning af en person); kun referencen og "
                       "anonyme rapporttal er tilbage.",
                       "The case was erased (retention, or erasure of a person); only the reference and anonymous "
                       "report figures remain."),
    "list.held": ("tilbageholdt", "on hold"),
    "retention.title": ("Opbevaring og sletning", "Retention and erasure"),
    "retention.rules": ("Lukkede sager slettes {days} dage efter lukning ({unfounded} dage for grundløse).",
                        "Closed cases are erased {days} days after closing ({unfounded} days for unfounded ones)."),
    "retention.holds": ("Tilbageholdt", "On hold"),
    "retention.due": ("Slettes", "To be erased"),
    "retention.due_line": ("{day}: {ref}", "{day}: {ref}"),
    "retention.more": ("… og {count} til", "… and {count} more"),
    "retention.notice.title": ("Sletning i {month}", "Erasure in {month}"),
    "retention.notice": ("Disse sager slettes i {month} efter reglerne om opbevaring (hold dem med "
                         "`case hold KE-… reason=\"…\"`): {refs}",
                         "These cases will be erased in {month} under the retention rules (hold one with "
                         "`case hold KE-… reason=\"…\"`): {refs}"),
    "audit.redacted": ("{count} poster om slettede sager er renset for detaljer (opbevaring); deres digest "
                       "står stadig i kæden.",
                       "{count} entries about erased cases were redacted by retention; their digests remain in the "
                       "chain."),
    "field.state": ("Status", "State"),
    "subject.form.export": ("Indsigt: alt om en person", "Access: everything on a person"),
    "subject.form.erase": ("Sletning af en person", "Erasure of a person"),
    "subject.hint.purpose": ("Fx: indsigtsanmodning modtaget 2. dec., j.nr. … (gemmes krypteret i auditloggen)",
                             "E.g.: access request received 2 Dec, file no. … (kept encrypted in the audit log)"),
    "subject.field.confirm": ("Skriv {word} for at bekræfte", "Type {word} to confirm"),
    "subject.hint.confirm": ("Lad feltet stå tomt første gang: så ser du, hvad der slettes.",
                             "Leave it empty the first time: you then see what will be erased."),
    "subject.export.opened": ("Formularen til indsigt er åbnet privat. Identifikatoren gemmes ikke.",
                              "The access form is open, privately. The identifier is not stored."),
    "subject.erase.opened": ("Formularen til sletning er åbnet privat. Identifikatoren gemmes ikke.",
                             "The erasure form is open, privately. The identifier is not stored."),
    "subject.none": ("Enheden har ingen sager om denne person (eller personen blev registreret uden "
                     "identifikator).",
                     "The unit holds no case on this person (or the person was registered without an identifier)."),
    "subject.export.title": ("Indsigt: oplysninger om en registreret person", "Access: data held on a person"),
    "subject.export.footer": ("Til den juridiske medarbejders gennemgang før udlevering (databeskyttelsesforordningen "
                              "art. 15). Oplysninger om andre personer skal fjernes før udlevering.",
                              "For the legal officer's review before it is handed out (GDPR art. 15). Remove "
                              "information on other persons before handing it out."),
    "subject.export.meta": ("Pseudonym {subject} · udarbejdet {made} · sager: {cases}",
                            "Pseudonym {subject} · made {made} · cases: {cases}"),
    "subject.export.review": ("Sagsresumé, noter og beslutninger gælder hele sagen og kan nævne andre; "
                              "andre personers tilbud, forløb og pseudonymer er udeladt.",
                              "Summaries, notes and decisions belong to the whole case and may mention others; "
                              "other persons' offers, engagements and pseudonyms are left out."),
    "subject.export.others": ("Sagen vedrører {count} andre personer (ikke nævnt her).",
                              "The case concerns {count} other persons (not named here)."),
    "subject.export.consent": ("samtykke", "consent"),
    "subject.export.case": ("sagen", "the case"),
    "subject.export.texts": ("fritekst", "free text"),
    "subject.export.timeline": ("tidslinje", "timeline"),
    "subject.export.offers": ("tilbud og forløb", "offers and engagements"),
    "subject.export.logs": ("mentorlog og opfølgninger", "mentor log and follow-ups"),
    "subject.export.seen": ("hvem har set eller ændret sagen (auditlog)", "who saw or changed the case (audit log)"),
    "subject.export.done": ("Indsigtsfilen er lavet ({count} sager): Markdown og PDF. Gennemgå den før udlevering.",
                            "The access file is made ({count} cases): Markdown and PDF. Review it before handing "
                            "it out."),
    "subject.erase.preview": ("Slettes helt (sager kun om personen): {whole}. Personen fjernes fra: {shared}. "
                              "Skriv {word} og indsend igen for at slette.",
                              "Erased entirely (cases only about this person): {whole}. The person is removed "
                              "from: {shared}. Type {word} and submit again to erase."),
    "subject.erase.done": ("Personen er slettet. Sager slettet helt: {whole}. Fjernet fra: {shared}.",
                           "The person is erased. Cases erased entirely: {whole}. Removed from: {shared}."),
}

CATALOG.update(TEXTS)
