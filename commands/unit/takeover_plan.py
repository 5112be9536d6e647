"""Reading a takeover sheet into a plan of cases, with every row's problems at once (row number, column).
Nothing is stored here: `unit import cases` shows the plan (check=yes) or carries it out (takeover.py)."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from commands import messages
from commands.cases.concerns import imported_identifier_token
from commands.context import Ctx
from commands.unit.sheet import Row, Sheet, header_name
from storage import pii
from storage.enums import AgeBand, CaseState, CloseReason, Level, OfferKind, Severity, Track
from storage.models import Case, Member
from storage.pseudonym import IdentifierError

OPEN_BEFORE_REFERRAL = (CaseState.new.value, CaseState.qualifying.value)
ANSWERS = ("pending", "accepted", "declined")
DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%Y", "%d-%m-%y", "%d.%m.%y", "%d/%m/%y")
# Words a unit's own spreadsheet uses beside the bot's (folded as _fold does).
SYNONYMS = {
    "state": {"afsluttet": "closed", "lukket": "closed", "åben": "new", "igang": "active", "visiteret": "referred"},
    "answer": {"accepteret": "accepted", "ja": "accepted", "takketja": "accepted", "afvist": "declined",
               "nej": "declined", "takketnej": "declined", "afventer": "pending", "yes": "accepted",
               "no": "declined"},
    "close_reason": {"grundløs": "unfounded", "ubegrundet": "unfounded", "flyttet": "moved"},
}
MAX_SUMMARY = 4000
MAX_PERSONS = 20
PROBLEMS = ("unknown", "date", "future", "owner", "pii", "too_long", "conflict", "age_missing", "identifier",
            "same_person", "offer_missing", "required", "course_not_accepted", "course_not_started", "order",
            "not_yet", "authority_missing", "closed_missing", "course_running", "not_closed", "person")


@dataclass
class Problem:
    row: int
    column: str  # the column's header as the file wrote it ("" for the row as a whole)
    text: str


@dataclass
class OfferPlan:
    row: int
    kind: str
    offered_at: datetime
    answer: str
    started_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass
class PersonPlan:
    n: int
    row: int
    age: str = ""
    pseudonym: str | None = None  # derived from the identifier, which goes no further
    offers: list[OfferPlan] = field(default_factory=list)


@dataclass
class CasePlan:
    case_no: str
    key: str
    row: int
    values: dict[str, object] = field(default_factory=dict)  # the case's columns, parsed
    rows: int = 0
    persons: dict[int, PersonPlan] = field(default_factory=dict)
    known: bool = False  # taken over by an earlier import of the same file: skipped


@dataclass
class Plan:
    cases: list[CasePlan] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def new(self) -> list[CasePlan]:
        return [c for c in self.cases if not c.known]


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s\-_/.]", "", text)


def import_key(ctx: Ctx, case_no: str) -> str:
    """A keyed hash of the unit's own case number: the same row group gives the same key on every import."""
    digest = hmac.new(ctx.svc.keys.pseudonym_key, b"takeover:" + _fold(case_no).encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:40]


class Reader:
    """Turns cells into values, collecting problems instead of stopping at the first."""

    def __init__(self, ctx: Ctx, sheet: Sheet) -> None:
        self.ctx, self.sheet, self.problems = ctx, sheet, []  # type: list[Problem]
        self.tz: ZoneInfo = ctx.tz
        self.today = ctx.local(ctx.now()).date()
        profile = ctx.profile
        self.vocab = {
            "state": self._words("state", tuple(CaseState)), "severity": self._words("severity", tuple(Severity)),
            "track": self._words("track", tuple(Track)), "level": self._words("level", tuple(Level)),
            "source": self._words("source", profile.sources),
            "district": self._words("district", (*profile.districts, *profile.archived_districts)),
            "basis": self._words("basis", profile.basis_codes()),
            "close_reason": self._words("close_reason", tuple(CloseReason)),
            "age": self._words("age", tuple(AgeBand)), "offer": self._words("offer_kind", tuple(OfferKind)),
            "answer": self._words("response", ANSWERS),
        }
        orgs: dict[str, str] = {}
        for org in profile.orgs:
            for word in (org.code, org.name.da, org.name.en, *(messages.label(lang, "org", org.code)
                                                                for lang in messages.LANGS)):
                orgs.setdefault(_fold(word), org.code)
        self.vocab["authority"] = orgs
        for key, words in SYNONYMS.items():
            for word, code in words.items():
                self.vocab[key].setdefault(word, code)
        self.members = list(ctx.session.exec(select(Member).where(col(Member.active))))

    def _words(self, kind: str, codes: tuple[str, ...]) -> dict[str, str]:
        words: dict[str, str] = {}
        for code in codes:
            words.setdefault(_fold(str(code)), str(code))
        for lang in messages.LANGS:
            for code in codes:
                words.setdefault(_fold(messages.label(lang, kind, str(code))), str(code))
        return words

    def column(self, key: str) -> str:
        return self.sheet.headers.get(key) or header_name(key, self.ctx.lang)

    def problem(self, row: Row | int, key: str, message: str, **params: object) -> None:
        number = row.number if isinstance(row, Row) else row
        for name in ("value", "case_no"):  # a cell in the wrong column may hold an identifier: never echoed
            value = params.get(name)
            if isinstance(value, str) and pii.scan(value, self.ctx.settings.pii_denylist):
                params[name] = "…"
        self.problems.append(Problem(number, self.column(key) if key else "",
                                     self.ctx.t(f"takeover.problem.{message}", **params)))

    def choice(self, row: Row, key: str) -> str | None:
        raw = row.text(key)
        if not raw:
            return None
        found = self.vocab[key].get(_fold(raw))
        if found is None:
            kind = {"offer": "offer_kind", "answer": "response"}.get(key, key)
            shown = list(dict.fromkeys(self.vocab[key].values()))
            names = [self.ctx.label(kind, c) if key != "authority" else c for c in shown]
            words = ("; " if any("," in n for n in names) else ", ").join(names)
            self.problem(row, key, "unknown", value=raw[:40], choices=words[:400])
        return found

    def day(self, row: Row, key: str) -> datetime | None:
        value = row.values.get(key)
        if value is None:
            return None
        found: date | None = None
        if isinstance(value, datetime):
            found = value.date()
        elif isinstance(value, date):
            found = value
        else:
            text = row.text(key).split(" ")[0].split("T")[0]
            for fmt in DATE_FORMATS:
                try:
                    found = datetime.strptime(text, fmt).date()
                    break
                except ValueError:
                    continue
        if found is None:
            self.problem(row, key, "date", value=row.text(key)[:40])
            return None
        if found > self.today:
            self.problem(row, key, "future", value=found.isoformat())
            return None
        return datetime.combine(found, time(0, 0), tzinfo=self.tz).astimezone(ZoneInfo("UTC"))

    def owner(self, row: Row) -> int | None:
        raw = row.text("owner")
        if not raw:
            return None
        wanted = raw.strip().removeprefix("<@").removesuffix(">").lstrip("@").strip()
        for member in self.members:
            if member.user_id == wanted or (member.display_name or "").casefold() == wanted.casefold():
                return member.id
        self.problem(row, "owner", "owner", value=raw[:60])
        return None


CASE_KEYS = ("received", "state", "severity", "track", "level", "source", "district", "basis", "authority",
             "owner", "referred", "closed", "close_reason", "summary")


def _case_values(r: Reader, row: Row) -> dict[str, object]:
    values: dict[str, object] = {}
    for key in ("state", "severity", "track", "level", "source", "district", "basis", "authority",
                "close_reason"):
        if row.text(key):
            values[key] = r.choice(row, key)
    for key in ("received", "referred", "closed"):
        if row.values.get(key) is not None:
            values[key] = r.day(row, key)
    if row.text("owner"):
        values["owner"] = r.owner(row)
    summary = str(row.values.get("summary") or "").strip()
    if summary:
        findings = pii.scan(summary, r.ctx.settings.pii_denylist)
        if findings:
            kinds = ", ".join(dict.fromkeys(r.ctx.t(f"pii.{f.kind}") for f in findings))
            r.problem(row, "summary", "pii", kinds=kinds)
            values["summary"] = None
        elif len(summary) > MAX_SUMMARY:
            r.problem(row, "summary", "too_long", limit=MAX_SUMMARY)
            values["summary"] = None
        else:
            values["summary"] = summary
    return values


def _merge(r: Reader, plan: CasePlan, row: Row, values: dict[str, object]) -> None:
    """A case's column filled on a later row must say what its first row said."""
    for key, value in values.items():
        if key not in plan.values:
            plan.values[key] = value
        elif value is not None and plan.values[key] is not None and plan.values[key] != value:
            r.problem(row, key, "conflict", case_no=plan.case_no[:40], first=plan.row)


def _person(r: Reader, plan: CasePlan, row: Row, seen_ids: dict[str, int]) -> None:
    raw_n = row.text("person")
    age = r.choice(row, "age") if row.text("age") else None
    if raw_n:
        if not raw_n.isdigit() or not 1 <= int(raw_n) <= MAX_PERSONS:
            r.problem(row, "person", "person", value=raw_n[:20], limit=MAX_PERSONS)
            return
        n = int(raw_n)
    else:
        n = len(plan.persons) + 1 if (row.text("age") or not plan.persons) else max(plan.persons)
    person = plan.persons.get(n)
    if person is None:
        person = plan.persons[n] = PersonPlan(n, row.number)
        if not row.text("age"):
            r.problem(row, "age", "age_missing", n=n)
    if age:
        if person.age and person.age != age:
            r.problem(row, "age", "conflict", case_no=plan.case_no[:40], first=person.row)
        person.age = person.age or age
    raw_id = row.text("identifier")
    if raw_id:
        try:
            token = imported_identifier_token(r.ctx, raw_id)
        except IdentifierError as exc:
            r.problem(row, "identifier", "identifier", reason=r.ctx.t(f"identifier.{exc.code}"))
        else:
            if seen_ids.get(token, n) != n:
                r.problem(row, "identifier", "same_person", n=seen_ids[token])
            seen_ids[token] = n
            if person.pseudonym and person.pseudonym != token:
                r.problem(row, "identifier", "conflict", case_no=plan.case_no[:40], first=person.row)
            person.pseudonym = person.pseudonym or token
    _offer(r, plan, person, row)


def _offer(r: Reader, plan: CasePlan, person: PersonPlan, row: Row) -> None:
    kind = r.choice(row, "offer") if row.text("offer") else None
    answer = r.choice(row, "answer") if row.text("answer") else None
    offered, started, ended = r.day(row, "offered"), r.day(row, "started"), r.day(row, "ended")
    if not row.text("offer"):
        for key in ("offered", "answer", "started", "ended"):
            if row.values.get(key) is not None:
                r.problem(row, key, "offer_missing")
                break
        return
    if row.values.get("offered") is None:
        r.problem(row, "offered", "required")
    if started is not None and answer not in (None, "accepted"):
        r.problem(row, "started", "course_not_accepted")
    if ended is not None and row.values.get("started") is None:
        r.problem(row, "ended", "course_not_started")
    if offered and started and started < offered:
        r.problem(row, "started", "order", before=r.column("offered"))
    if started and ended and ended < started:
        r.problem(row, "ended", "order", before=r.column("started"))
    if kind and offered:
        answer = answer or ("accepted" if started else "pending")
        person.offers.append(OfferPlan(row.number, kind, offered, answer, started, ended))


def _check_case(r: Reader, plan: CasePlan) -> None:
    v, row = plan.values, plan.row
    for key in ("received", "severity", "track"):
        if key not in v:
            r.problem(row, key, "required")
    state = v.get("state") or (CaseState.closed.value if v.get("closed") else
                               CaseState.referred.value if v.get("authority") else CaseState.new.value)
    v["state"] = state
    received = v.get("received")
    if state in OPEN_BEFORE_REFERRAL:
        for key in ("referred", "closed", "close_reason"):
            if v.get(key) is not None:
                r.problem(row, key, "not_yet", state=r.ctx.label("state", state))
    elif state != CaseState.closed.value and "authority" not in v:
        r.problem(row, "authority", "authority_missing", state=r.ctx.label("state", state))
    if state == CaseState.closed.value:
        for key in ("closed", "close_reason"):
            if key not in v:
                r.problem(row, key, "closed_missing")
        running = [o for p in plan.persons.values() for o in p.offers if o.started_at and not o.ended_at]
        if running:
            r.problem(running[0].row, "ended", "course_running")
    elif v.get("closed") is not None:
        r.problem(row, "closed", "not_closed", state=r.ctx.label("state", state))
    if isinstance(received, datetime):
        for key in ("referred", "closed"):
            when = v.get(key)
            if isinstance(when, datetime) and when < received:
                r.problem(row, key, "order", before=r.column("received"))
        for person in plan.persons.values():
            for offer in person.offers:
                if offer.offered_at < received:
                    r.problem(offer.row, "offered", "order", before=r.column("received"))


def read_plan(ctx: Ctx, sheet: Sheet) -> Plan:
    r = Reader(ctx, sheet)
    by_key: dict[str, CasePlan] = {}
    seen_ids: dict[str, dict[str, int]] = {}
    for row in sheet.rows:
        case_no = row.text("case_no")
        if not case_no:
            r.problem(row, "case_no", "required")
            continue
        key = import_key(ctx, case_no)
        plan = by_key.get(key)
        if plan is None:
            plan = by_key[key] = CasePlan(case_no, key, row.number)
        plan.rows += 1
        _merge(r, plan, row, _case_values(r, row))
        _person(r, plan, row, seen_ids.setdefault(key, {}))
    for plan in by_key.values():
        _check_case(r, plan)
    known = set(ctx.session.exec(select(Case.import_key).where(col(Case.import_key).in_(list(by_key)))))
    for plan in by_key.values():
        plan.known = plan.key in known
    problems = sorted(r.problems, key=lambda p: (p.row, list(sheet.headers.values()).index(p.column)
                                                  if p.column in sheet.headers.values() else 99))
    return Plan(list(by_key.values()), problems)
