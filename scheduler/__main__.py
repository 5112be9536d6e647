"""`python -m scheduler` — the worker; `python -m scheduler tick [--now ISO-8601]` — one sweep, then exit."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from storage.clock import FixedClock, SystemClock
from storage.logs import configure as configure_logging
from storage.logs import say
from storage.settings import Settings


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("--now needs a time zone, e.g. 2026-11-25T09:00:00+01:00 or …Z")
    return value.astimezone(UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scheduler")
    sub = parser.add_subparsers(dest="cmd")
    tick = sub.add_parser("tick", help="run every job due at that instant (sweep, meetings, retention) and one "
                                       "delivery pass, then exit")
    tick.add_argument("--now", type=_instant, default=None, help="the instant to sweep as of (ISO-8601 with zone)")
    args = parser.parse_args(argv)
    from bot.delivery import deliver_pending  # the entry point hands the platforms' delivery to the worker
    from commands.services import build_services
    from scheduler.worker import run_forever
    from scheduler.worker import tick as run_tick

    settings = Settings()
    configure_logging(settings.log_format, logging.WARNING)
    clock = FixedClock(args.now) if getattr(args, "now", None) else SystemClock()
    try:
        svc = build_services(settings, clock, allow_generated_keys=not settings.has_slack or settings.koordinator_dev)
    except SQLAlchemyError as exc:
        say(f"cannot start: the database is not reachable ({type(exc).__name__}); check DATABASE_URL.")
        return 2
    if args.cmd == "tick":
        result, delivered = asyncio.run(run_tick(svc, clock.now(), deliver_pending))
        print(f"swept as of {clock.now().isoformat()}: {result.reminded} reminded, {result.deferred} deferred, "
              f"{result.erased} erased, {delivered} delivered")
        return 0
    asyncio.run(run_forever(svc, deliver_pending))
    return 0


if __name__ == "__main__":
    sys.exit(main())
