"""The unit profile (SPEC.md §9): what differs between municipalities, as validated data.

Validation errors carry a path into the document (`orgs[2].code`); `load` turns the path into a line number
with the YAML node marks, so a unit editing its file is told where the mistake is.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from storage.enums import Severity, Track

CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}$")
ROLES = ("owner", "secretariat", "mentor")
ANCHORS = ("received", "qualified", "referred", "offer_declined", "engagement_started", "closed", "release")
OFFSET = re.compile(r"^(-?\d{1,4})\s*(h|d|wd|w|m)$")
ADVICE_TOPICS = ("signs", "handling", "referral", "legal", "other")
KPI_NAMES = ("acceptance", "reoffer_3m", "reoffer_6m", "education_12m", "not_at_risk_6m", "visitation")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Names(_Strict):
    da: str = Field(min_length=1, max_length=200)
    en: str = Field(min_length=1, max_length=200)

    def get(self, lang: str) -> str:
        return self.da if lang == "da" else self.en


class Org(_Strict):
    code: str
    name: Names
    checks_registers: bool = False
    participant: Literal["fixed", "adhoc"] = "fixed"
    propose_for: tuple[Track, ...] = ()  # the agenda proposes this org when a case of these tracks is on it
    archived: bool = False  # removed while cases use it: still shown on them, no longer offered

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not CODE.match(value):
            raise ValueError("a code is a letter followed by up to 15 letters, digits or _")
        return value.upper()


class Basis(_Strict):
    code: str
    name: Names
    footer: Names | None = None  # the purpose-limitation text exports carry

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not CODE.match(value):
            raise ValueError("a code is a letter followed by up to 15 letters, digits or _")
        return value


class Holidays(_Strict):
    country: str = Field(default="DK", min_length=2, max_length=3)
    categories: tuple[Literal["public", "optional"], ...] = ("public",)

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        import holidays

        code = value.strip().upper()
        if code not in holidays.list_supported_countries():
            raise ValueError(f"unknown holiday country `{value}` (an ISO code such as DK, GL, FO)")
        return code


class WorkingHours(_Strict):
    start: str = "08:00"
    end: str = "16:00"

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("a time of day is HH:MM, e.g. 08:00")
        return value

    @model_validator(mode="after")
    def _order(self) -> WorkingHours:
        if self.end <= self.start:
            raise ValueError("working hours end after they start, e.g. {start: \"08:00\", end: \"16:00\"}")
        return self


class Step(_Strict):
    title: Names
    responsible: str = "owner"  # owner | secretariat | mentor | an org code
    anchor: Literal["received", "qualified", "referred", "offer_declined", "engagement_started", "closed",
                    "release"] = "qualified"  # release: a prison case's expected release (offsets may be negative)
    due: str = "0d"  # an offset from the anchor: 24h, 3d, 2wd (working days), 2w, 3m
    required_before_close: bool = False
    on_agenda_when_late: bool = False

    @field_validator("due")
    @classmethod
    def _offset(cls, value: str, info: ValidationInfo) -> str:
        text = str(value).strip().lower().replace(" ", "")
        if text.startswith("-") and info.data.get("anchor") != "release":
            raise ValueError("an offset cannot be negative: a step is due on or after its anchor "
                             "(only the release anchor counts back: -6m is six months before the release)")
        if not OFFSET.match(text):
            raise ValueError("an offset is a number and a unit: 24h, 3d, 2wd (working days), 2w or 3m")
        return text


class Profile(_Strict):
    name: str = Field(min_length=1, max_length=64)
    title: Names | None = None
    language: str = Field(default="da", pattern=r"^[a-z]{2,3}(_[a-z]{2,4})?$")  # a catalog in commands/locale/
    timezone: str = "Europe/Copenhagen"
    holidays: Holidays = Holidays()
    working_hours: WorkingHours = WorkingHours()
    visitation_hours: dict[Severity, int] = Field(
        default_factory=lambda: {Severity.critical: 24, Severity.high: 48, Severity.normal: 72})
    kpi_targets: dict[str, float] = Field(default_factory=dict)
    orgs: tuple[Org, ...] = Field(min_length=1)
    secretariat_org: str = "BIF"  # the org of the secretariat and of the first admins
    districts: tuple[str, ...] = ()
    archived_districts: tuple[str, ...] = ()
    indicators: tuple[str, ...] = ()
    sources: tuple[str, ...] = Field(min_length=1)
    advice_topics: tuple[str, ...] = Field(default=ADVICE_TOPICS, min_length=1)  # `concern advice topic=…`
    bases: tuple[Basis, ...] = Field(min_length=1)
    procedures: dict[Track, tuple[Step, ...]] = Field(default_factory=dict)
    procedures_active: bool = True  # False: the procedures are kept but cases get no checklist (copenhagen)
    prison_procedure: tuple[Step, ...] = ()  # started by a prison case's expected release (`case release-date`)

    @field_validator("visitation_hours")
    @classmethod
    def _hours(cls, value: dict[Severity, int]) -> dict[Severity, int]:
        missing = [s.value for s in Severity if s not in value]
        if missing:
            raise ValueError(f"hours are needed for every severity (missing: {', '.join(missing)})")
        if any(h <= 0 or h > 24 * 30 for h in value.values()):
            raise ValueError("visitation hours are between 1 and 720")
        return value

    @field_validator("kpi_targets")
    @classmethod
    def _targets(cls, value: dict[str, float]) -> dict[str, float]:
        for name, target in value.items():
            if name not in KPI_NAMES:
                raise ValueError(f"unknown target `{name}` (known: {', '.join(KPI_NAMES)})")
            if not 0 <= target <= 1:
                raise ValueError("a target is a share between 0 and 1, e.g. 0.6")
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone `{value}`") from None
        return value

    # -- reading it ----------------------------------------------------------------------------------------
    def org(self, code: str | None) -> Org | None:
        wanted = (code or "").strip().upper()
        return next((o for o in self.orgs if o.code == wanted), None)

    def org_codes(self, *, include_archived: bool = False) -> tuple[str, ...]:
        return tuple(o.code for o in self.orgs if include_archived or not o.archived)

    def org_name(self, code: str, lang: str) -> str:
        org = self.org(code)
        return org.name.get(lang) if org else code

    @property
    def checking_orgs(self) -> tuple[str, ...]:
        return tuple(o.code for o in self.orgs if o.checks_registers and not o.archived)

    def proposals(self) -> tuple[tuple[str, str], ...]:
        """(track, org) pairs: the ad hoc participants the agenda proposes for a track's case."""
        return tuple((track.value, o.code) for o in self.orgs if not o.archived for track in o.propose_for)

    def basis_codes(self) -> tuple[str, ...]:
        return tuple(b.code for b in self.bases)

    def visitation(self, severity: str) -> int:
        return self.visitation_hours[Severity(severity)]

    def target(self, name: str, default: float) -> float:
        return self.kpi_targets.get(name, default)

    def footer(self, lang: str) -> str | None:
        texts = list(dict.fromkeys(b.footer.get(lang) for b in self.bases if b.footer))
        return " ".join(texts) or None

    def steps(self, track: str) -> tuple[Step, ...]:
        return self.procedures.get(Track(track), ())
