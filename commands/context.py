"""What a use case gets: the process-wide services and, per invocation, one unit of work."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from commands import markup
from commands.messages import label, org_name, t, tn
from commands.reply import Invocation, Reply
from commands.time import timefmt
from commands.time.calendar import UnitCalendar, unit_calendar
from storage import audit, outbox
from storage.clock import Clock, SystemClock
from storage.crypto import Keys, Vault
from storage.db import reading
from storage.models import Member
from storage.profile import Profile
from storage.profile import store as profile_store
from storage.settings import Settings

CALENDAR_TTL = 10.0  # seconds a platform's reply may use the unit's language and zone without reading them


@dataclass
class Services:
    settings: Settings
    engine: Engine
    keys: Keys
    clock: Clock = field(default_factory=SystemClock)
    vault: Vault = field(init=False)
    _calendar: tuple[float, UnitCalendar] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.vault = Vault(self.keys.master_key, self.clock, self.keys.previous_master)

    def calendar(self, session: Session | None = None) -> UnitCalendar:
        """The unit's calendar and language (time zone, working hours, holidays) from the current profile.

        With a session: read in it. Without (a platform's reply): at most CALENDAR_TTL old, so an async
        handler does not query for every message; an import in this process forgets it at once
        (`forget_calendar`), another process (the worker) sees it within CALENDAR_TTL."""
        if session is not None:
            cal = unit_calendar(self.settings, profile_store.profile(session, self.settings))
            self._calendar = (time.monotonic(), cal)
            return cal
        if self._calendar is not None and time.monotonic() - self._calendar[0] < CALENDAR_TTL:
            return self._calendar[1]
        try:
            with Session(reading(self.engine)) as own:  # a read: never waits for the caller's own write lock
                return self.calendar(own)
        except SQLAlchemyError:  # the database is down: say so in UNIT_PROFILE's language, not with a traceback
            return unit_calendar(self.settings, profile_store.initial(self.settings)[1])

    def forget_calendar(self) -> None:
        self._calendar = None

    @property
    def lang(self) -> str:
        """The unit's language, for a platform without a session (a use case reads `ctx.lang`)."""
        return self.calendar().lang


@dataclass
class Ctx:
    svc: Services
    session: Session
    inv: Invocation
    actor: Member | None = None
    confirm: str | None = None  # the answer to a question of commands.confirm (`confirm=` taken off the command)
    _profile: Profile | None = field(default=None, repr=False)
    _cal: UnitCalendar | None = field(default=None, repr=False)

    @property
    def member(self) -> Member:
        """The member running the command: the router authorises one before any handler runs."""
        if self.actor is None:
            raise RuntimeError("no member: a handler runs only after the router has authorised one")
        return self.actor

    @property
    def lang(self) -> str:
        return self.cal.lang

    @property
    def cal(self) -> UnitCalendar:
        """The unit's calendar and language (commands.time.calendar.unit_calendar), read once per invocation."""
        if self._cal is None:
            self._cal = unit_calendar(self.settings, self.profile)
        return self._cal

    @property
    def tz(self) -> ZoneInfo:
        return self.cal.tz

    @property
    def profile(self) -> Profile:
        """The unit's current profile (SPEC.md §9), read once per invocation."""
        if self._profile is None:
            self._profile = profile_store.profile(self.session, self.settings)
        return self._profile

    @property
    def settings(self) -> Settings:
        return self.svc.settings

    def t(self, key: str, **kw: Any) -> str:
        return t(self.lang, key, **kw)

    def tn(self, key: str, n: int, **kw: Any) -> str:
        return tn(self.lang, key, n, **kw)

    def label(self, kind: str, code: object) -> str:
        """The reader's word for a code (`self.label("track", "child")` → "barn" in Danish); an org's name
        from the unit profile (commands.messages.org_name)."""
        if kind == "org":
            return org_name(self.lang, code, self.profile)
        return label(self.lang, kind, code)

    def now(self) -> datetime:
        return self.svc.clock.now()

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.tz)

    def fmt(self, instant: datetime | None) -> str:
        """An instant as the reader's language writes it, in the unit's time zone (`3. dec. 2026 kl. 19.37`)."""
        return "—" if instant is None else timefmt.when(self.local(instant), self.lang)

    def fmt_day(self, instant: datetime | None) -> str:
        return "—" if instant is None else timefmt.day(self.local(instant), self.lang)

    def num(self, value: float) -> str:
        return timefmt.number(value, self.lang)

    def pct(self, fraction: float, digits: int = 0) -> str:
        return timefmt.percent(fraction, self.lang, digits)

    def fmt_until(self, instant: datetime) -> str:
        """How far off an instant is, from the clock's now: `om 1 dag og 23 timer`, `for 3 timer siden`."""
        return timefmt.relative(instant - self.now(), self.lang)

    def fmt_duration(self, delta: timedelta) -> str:
        """A length of time in days and hours: `26 dage og 6 timer` (commands/timefmt.duration)."""
        return timefmt.duration(delta, self.lang)

    def audit(self, action: str, *, case_ref: str | None = None, result: str = "ok",
              detail: dict[str, Any] | None = None, purpose: str | None = None) -> None:
        audit.record(self.session, clock=self.svc.clock, vault=self.svc.vault, actor=self.inv.user_id,
                     action=action, case_ref=case_ref, result=result, detail=detail, purpose=purpose)

    def encrypt(self, text: str, aad: str) -> tuple[bytes, str]:
        """Free text at rest; whatever path it came by (a command, a form, a file import), it can never hold
        the marks of a live mention or link (commands/markup.py)."""
        return self.svc.vault.encrypt(self.session, markup.scrub(text), aad)

    def decrypt(self, ciphertext: bytes | None, kid: str | None, aad: str) -> str:
        if ciphertext is None or kid is None:
            return ""
        return self.svc.vault.decrypt(self.session, ciphertext, kid, aad)

    def post_channel(self, channel: str, reply: Reply, dedupe_key: str | None = None) -> None:
        """Queue a post to a logical channel ("unit" or "secretariat"): references and categories only."""
        reply.private = False
        outbox.enqueue(self.session, clock=self.svc.clock, vault=self.svc.vault, target_kind="channel",
                       target=channel, payload=reply.to_json(), dedupe_key=dedupe_key)

    def send_dm(self, user_id: str, reply: Reply, dedupe_key: str | None = None) -> None:
        reply.private = True
        outbox.enqueue(self.session, clock=self.svc.clock, vault=self.svc.vault, target_kind="user",
                       target=user_id, payload=reply.to_json(), dedupe_key=dedupe_key)


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False)
