"""`python -m bot [console|serve|migrate|keys generate|teams-package]` — see SPEC.md §8."""

from __future__ import annotations

import argparse
import logging
import sys

from storage.logs import configure as configure_logging
from storage.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="koordinator")
    sub = parser.add_subparsers(dest="cmd")
    console = sub.add_parser("console", help="the terminal chat on the same commands")
    console.add_argument("--as", dest="user", default="console", help="platform user id to act as")
    sub.add_parser("serve", help="HTTP server for Slack and Teams")
    sub.add_parser("migrate", help="apply database migrations")
    keys = sub.add_parser("keys", help="key helpers")
    keys.add_argument("action", choices=["generate"])
    package = sub.add_parser("teams-package", help="zip the Teams app package (manifest and icons)")
    package.add_argument("--out", default="koordinator-teams.zip", help="where to write the zip")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_format, logging.WARNING)
    if args.cmd == "keys":
        from storage.crypto import generate_key

        print(f"PSEUDONYM_KEY={generate_key()}\nDATA_KEY={generate_key()}")
        return 0
    if args.cmd == "teams-package":
        from bot.teams.package import main as teams_package

        return teams_package(settings, args.out)
    if args.cmd == "migrate":
        from storage.db import migrate

        migrate(settings.database_url)
        print("migrated")
        return 0
    if args.cmd == "serve" or (args.cmd is None and (settings.has_slack or settings.has_teams)):
        from bot.server import serve

        # Alone (`python -m bot`), the server also runs the follow-up sweep; `serve` leaves it to the worker.
        return serve(settings, with_worker=args.cmd is None)
    from bot.console import run_console
    from bot.services import build_services

    svc = build_services(settings)
    run_console(svc, getattr(args, "user", "console"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
