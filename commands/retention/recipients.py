"""Who received a person's data, and on what legal basis (GDPR art. 15(1)(c)): the subject access letter's
"Modtagere" section reads this one function.

The disclosure log (commands/cases/disclosures.py: `case disclose`, and the entries recorded automatically at a
referral and a register check) says what was shared about the person or their whole case (not about a sibling).
Referrals and register checks made before the log existed are derived from the case's own records: the
`referred` timeline event and the CaseCheck rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from commands.cases.disclosures import disclosures_for
from commands.messages import label, org_name
from storage.models import Case, CaseCheck, CaseEvent, Subject
from storage.profile import Profile


@dataclass(frozen=True)
class Recipient:
    org: str  # an org code of the profile (or a name the log recorded)
    at: datetime
    what: tuple[str, ...]  # `disclosure` words' codes: the log's categories (none known before the log)
    basis: str  # a basis code of the profile
    how: str = ""  # "referral" | "register_check" (the `disclosure` word that says how), "" for `case disclose`


def recipients(session: Session, case: Case, subject: Subject | None = None) -> list[Recipient]:
    """Every disclosure of the case's data (about `subject` or the whole case) outside the unit's own work,
    oldest first."""
    logged = disclosures_for(session, case=case) if subject is None else disclosures_for(session, subject=subject)
    how = {"referral": "referral", "check": "register_check"}
    out = [Recipient(d.org, d.at, d.categories, d.basis, how.get(d.how, "")) for d in logged]
    since = min((d.at for d in logged), default=None)  # the log's first entry: before it, derived
    for event in session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "referred")
                              .order_by(col(CaseEvent.id))):
        org = json.loads(event.data).get("to")
        if org and not any(d.how == "referral" for d in logged) and (since is None or event.at < since):
            out.append(Recipient(str(org), event.at, (), case.basis, "referral"))
    for check in session.exec(select(CaseCheck).where(CaseCheck.case_id == case.id).order_by(col(CaseCheck.id))):
        if not any(d.how == "check" for d in logged) and (since is None or check.at < since):
            out.append(Recipient(check.org, check.at, (), case.basis, "register_check"))
    return sorted(out, key=lambda r: r.at)


def basis_name(lang: str, code: str, profile: Profile) -> str:
    """A legal basis as a reader names it: the profile's name for it, else the catalog's word."""
    for basis in profile.bases:
        if basis.code == code:
            return basis.name.get(lang)
    return label(lang, "basis", code)


def row(lang: str, recipient: Recipient, profile: Profile, when: str) -> list[str]:
    """The letter's table row: to whom, when, what, on what basis."""
    what = ", ".join(label(lang, "disclosure", code) for code in recipient.what)
    if recipient.how:
        what = label(lang, "disclosure", recipient.how) + (f": {what}" if what else "")
    return [org_name(lang, recipient.org, profile), when, what, basis_name(lang, recipient.basis, profile)]
