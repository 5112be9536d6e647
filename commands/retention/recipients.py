"""Who received a person's data, and on what legal basis (GDPR art. 15(1)(c)): the subject access letter's
"Modtagere" section reads this one function.

Today it knows two kinds of disclosure, both from the case's own records: a referral (the case was handed to
an authority: the `referred` timeline event) and a register check (an org was asked whether it knows the person:
CaseCheck). A disclosure log (`case disclose`, and the disclosures recorded automatically at referral and register
check) plugs in at `recipients()`: append its rows as `Recipient`s (it then replaces the two derived kinds)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from commands.messages import label, org_name
from storage.models import Case, CaseCheck, CaseEvent
from storage.profile import Profile


@dataclass(frozen=True)
class Recipient:
    org: str  # an org code of the profile (or a name the log recorded)
    at: datetime
    what: str  # a `disclosure` word's code ("referral", "register_check"), or the log's own description
    basis: str  # a basis code of the profile


def recipients(session: Session, case: Case) -> list[Recipient]:
    """Every disclosure of the case's data outside the unit's own work, oldest first."""
    out = []
    for event in session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "referred")
                              .order_by(col(CaseEvent.id))):
        org = json.loads(event.data).get("to")
        if org:
            out.append(Recipient(str(org), event.at, "referral", case.basis))
    for check in session.exec(select(CaseCheck).where(CaseCheck.case_id == case.id).order_by(col(CaseCheck.id))):
        out.append(Recipient(check.org, check.at, "register_check", case.basis))
    return sorted(out, key=lambda r: r.at)


def basis_name(lang: str, code: str, profile: Profile) -> str:
    """A legal basis as a reader names it: the profile's name for it, else the catalog's word."""
    for basis in profile.bases:
        if basis.code == code:
            return basis.name.get(lang)
    return label(lang, "basis", code)


def row(lang: str, recipient: Recipient, profile: Profile, when: str) -> list[str]:
    """The letter's table row: to whom, when, what, on what basis."""
    return [org_name(lang, recipient.org, profile), when, label(lang, "disclosure", recipient.what),
            basis_name(lang, recipient.basis, profile)]
