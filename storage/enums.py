"""The fixed vocabularies of SPEC.md. Values are the command language; never rename them."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    secretariat = "secretariat"
    member = "member"
    adhoc = "adhoc"
    mentor = "mentor"


class Org(StrEnum):
    SSP = "SSP"
    VINK = "VINK"
    POLICE = "POLICE"
    KRIM = "KRIM"
    SOF = "SOF"
    EKP = "EKP"
    BUF = "BUF"
    PSYCH = "PSYCH"
    BIF = "BIF"
    OTHER = "OTHER"


# The fixed member orgs that check their own registers during qualification.
CHECKING_ORGS: tuple[Org, ...] = (Org.SSP, Org.VINK, Org.POLICE, Org.KRIM, Org.SOF, Org.EKP)


class Severity(StrEnum):
    critical = "critical"
    high = "high"
    normal = "normal"


VISITATION_HOURS: dict[Severity, int] = {Severity.critical: 24, Severity.high: 48, Severity.normal: 72}
SEVERITY_RANK: dict[Severity, int] = {Severity.critical: 0, Severity.high: 1, Severity.normal: 2}

# The timeline entries that are a status review (a recorded decision is one): `Case.reviewed_at` is the last.
REVIEW_EVENTS: tuple[str, ...] = ("decision", "review")


class Track(StrEnum):
    child = "child"
    adult = "adult"
    adult_psych = "adult_psych"
    crime = "crime"


class AgeBand(StrEnum):
    a0_14 = "0-14"
    a15_17 = "15-17"
    a18_24 = "18-24"
    a25 = "25+"


ADULT_BANDS = frozenset({AgeBand.a18_24, AgeBand.a25})


class Source(StrEnum):
    school = "school"
    daycare = "daycare"
    club = "club"
    social = "social"
    police = "police"
    prison = "prison"
    psychiatry = "psychiatry"
    family = "family"
    citizen = "citizen"
    hotline = "hotline"
    national_hotline = "national_hotline"
    other = "other"


class Basis(StrEnum):
    rpl115 = "rpl115"
    rpl115a = "rpl115a"
    dbl8 = "dbl8"
    consent = "consent"


class Level(StrEnum):
    preventive = "preventive"
    pre_emptive = "pre_emptive"
    intervening = "intervening"


class CaseState(StrEnum):
    new = "new"
    qualifying = "qualifying"
    referred = "referred"
    active = "active"
    follow_up = "follow_up"
    closed = "closed"


OPEN_STATES = frozenset(s for s in CaseState if s is not CaseState.closed)


class OfferKind(StrEnum):
    mentor = "mentor"
    parent_coach = "parent_coach"
    parent_course = "parent_course"
    exit = "exit"
    prison = "prison"
    other = "other"


class OfferState(StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    withdrawn = "withdrawn"


class EngagementState(StrEnum):
    active = "active"
    ended = "ended"


class CloseReason(StrEnum):
    unfounded = "unfounded"
    normal_system = "normal_system"
    pet = "pet"
    moved = "moved"
    completed = "completed"
    other = "other"


class Platform(StrEnum):
    slack = "slack"
    teams = "teams"
    console = "console"


class Relation(StrEnum):
    """A person's place in a family case (SPEC.md §10): barn, forælder, søskende, partner/ægtefælle, anden."""

    child = "child"
    parent = "parent"
    sibling = "sibling"
    partner = "partner"
    other = "other"


class CourseResult(StrEnum):
    """How a mentor course (engagement) ended: the seed's targets count completed courses only."""

    completed = "completed"
    dropped_out = "dropped_out"
    moved = "moved"
    other = "other"


class DisclosureCategory(StrEnum):
    """What kind of information was shared with another authority (the disclosure log; never free text)."""

    identity = "identity"
    concern = "concern"
    assessment = "assessment"
    offers = "offers"
    school = "school"
    health = "health"
    criminal = "criminal"
    social = "social"
    other = "other"
