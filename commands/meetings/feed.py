"""Each member's calendar feed: a secret URL, revocable, serving meetings only — never case data.

The token is an HMAC of (member, nonce) under a key derived from DATA_KEY, so `meeting feed` can show the
same URL again while the database keeps only the token's SHA-256 (a leaked database gives no feed URLs).
`meeting feed reset` draws a new nonce: the old URL stops working at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from commands import access, markup
from commands.context import Ctx, Services
from commands.errors import UsageError
from commands.meetings.meeting import is_fixed, series_calendar, single
from commands.parsing import only_options
from commands.registry import command
from commands.reply import Reply
from commands.time import ics
from commands.tokenizer import Args
from storage.db import unit_of_work
from storage.enums import Role
from storage.models import CalendarFeed, Meeting, MeetingInvite, MeetingSeries, Member

PAST_SINGLES = timedelta(days=90)


def _feed_key(svc: Services) -> bytes:
    return hmac.new(svc.keys.master_key, b"koordinator/calendar-feed", hashlib.sha256).digest()


def token_for(svc: Services, member_id: int, nonce: str) -> str:
    mac = hmac.new(_feed_key(svc), f"{member_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(svc: Services, token: str) -> str:
    base = (svc.settings.public_url or "").rstrip("/")
    return f"{base}/calendar/{token}.ics"


def _issue(ctx: Ctx, member: Member, row: CalendarFeed | None) -> str:
    nonce = secrets.token_hex(16)
    token = token_for(ctx.svc, member.id, nonce)  # type: ignore[arg-type]
    if row is None:
        row = CalendarFeed(member_id=member.id, nonce=nonce, token_hash=token_hash(token),  # type: ignore[arg-type]
                           created_at=ctx.now())
    row.nonce, row.token_hash, row.created_at = nonce, token_hash(token), ctx.now()
    ctx.session.add(row)
    ctx.session.flush()
    return token


@command("meeting feed", "meeting feed [reset]", access.STAFF | {Role.adhoc})
def meeting_feed(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set(), words=1)
    word = args.words[0].lower() if args.words else ""
    if word not in ("", "reset"):
        raise UsageError("bad_choice", option="feed", value=word[:20], choices="reset")
    member = ctx.actor
    assert member is not None
    row = ctx.session.exec(select(CalendarFeed).where(CalendarFeed.member_id == member.id)).first()
    if word == "reset" or row is None:
        token = _issue(ctx, member, row)
    else:
        token = token_for(ctx.svc, member.id, row.nonce)  # type: ignore[arg-type]
    ctx.audit("meeting.feed_reset" if word == "reset" else "meeting.feed")
    key = "feed.reset" if word == "reset" else "feed.url"
    text = ctx.t(key, url=markup.link(feed_url(ctx.svc, token)))  # live: the bot made it (commands/markup.py)
    if not ctx.settings.public_url:
        text += "\n" + ctx.t("feed.no_public_url")
    return Reply(text=text, private=True)


def member_calendar(svc: Services, session: Session, member: Member, now: datetime) -> bytes:
    """A fixed participant sees every series and every ad hoc meeting; an ad hoc participant the meetings
    they are invited to. Summaries are meeting names and ids; no topic, no case reference."""
    events = []
    since = now - PAST_SINGLES
    all_series = {s.id: s for s in session.exec(select(MeetingSeries).order_by(col(MeetingSeries.id)))}
    if is_fixed(member):
        for series in all_series.values():
            if series.active:
                events += ics.series_events(series_calendar(svc, session, series, now), now)
        singles = select(Meeting).where(Meeting.kind == "adhoc")
    else:
        mine = select(MeetingInvite.meeting_id).where(MeetingInvite.member_id == member.id)
        singles = select(Meeting).where(col(Meeting.id).in_(mine))
    for meeting in session.exec(singles.where(col(Meeting.starts_at) >= since).order_by(col(Meeting.starts_at))):
        events.append(ics.single_event(single(svc, session, meeting, all_series.get(meeting.series_id)), now))
    return ics.calendar(events, name="koordinator", around=now.date(), lang=svc.calendar(session).lang)


def calendar_for_token(svc: Services, token: str) -> bytes | None:
    """The feed behind a token, or None (unknown, revoked, or the member has left the unit)."""
    if not token or len(token) > 128:
        return None
    with unit_of_work(svc.engine) as session:
        row = session.exec(select(CalendarFeed).where(CalendarFeed.token_hash == token_hash(token))).first()
        if row is None:
            return None
        member = session.get(Member, row.member_id)
        if member is None or not member.active or not hmac.compare_digest(
                token_for(svc, member.id, row.nonce), token):  # type: ignore[arg-type]
            return None
        return member_calendar(svc, session, member, svc.clock.now())
