"""`python -m bot [console|serve|migrate|keys generate|keys rotate-master|teams-package|docs]` — see docs/admin.md."""

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
    keys = sub.add_parser(
        "keys", help="key helpers",
        description="generate: print a fresh PSEUDONYM_KEY and DATA_KEY. rotate-master: re-wrap every data key "
                    "under a new DATA_KEY while DATA_KEY_PREVIOUS holds the old one (resumable; servers keep "
                    "serving when they have both). PSEUDONYM_KEY cannot be rotated: identifiers are never stored, "
                    "so pseudonyms cannot be derived again under a new key.")
    keys.add_argument("action", choices=["generate", "rotate-master"])
    docs = sub.add_parser("docs", help="write the command reference (docs/commands.md) from the command table")
    docs.add_argument("--out", default=None, help="where to write it (default: docs/commands.md in the repository)")
    package = sub.add_parser("teams-package", help="zip the Teams app package (manifest and icons)")
    package.add_argument("--out", default="koordinator-teams.zip", help="where to write the zip")
    return parser


def _rotate_master(settings: Settings) -> int:
    from commands.services import build_services
    from storage.crypto import KeyMaterialError
    from storage.masterkey import rotate_master

    try:
        svc = build_services(settings, allow_generated_keys=False)
        done = rotate_master(svc.engine, svc.vault, svc.clock, has_previous=svc.keys.previous_master is not None)
    except KeyMaterialError as exc:
        print(f"rotate-master: {exc}", file=sys.stderr)
        return 2
    print(f"rotate-master: {done.rewrapped} data keys re-wrapped, {done.already} already under the new DATA_KEY "
          f"({done.total} in all). Remove DATA_KEY_PREVIOUS now. PSEUDONYM_KEY cannot be rotated.")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_format, logging.WARNING)
    if args.cmd == "keys" and args.action == "rotate-master":
        return _rotate_master(settings)
    if args.cmd == "keys":
        from storage.crypto import generate_key

        print(f"PSEUDONYM_KEY={generate_key()}\nDATA_KEY={generate_key()}")
        return 0
    if args.cmd == "docs":
        from pathlib import Path

        from commands.guide.reference import write

        print(write(Path(args.out) if args.out else None))
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
    from commands.services import build_services

    svc = build_services(settings)
    run_console(svc, getattr(args, "user", "console"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
