"""Wiring: settings → keys, engine (migrated), clock → the Services every adapter hands to commands."""

from __future__ import annotations

import logging

from sqlalchemy.engine import make_url

from commands import messages
from commands.context import Services
from storage.clock import Clock, SystemClock
from storage.crypto import load_keys
from storage.db import has_tables, make_engine, migrate, needs_migration, normalise_url, wait_for_database
from storage.settings import Settings

log = logging.getLogger(__name__)


def language_problem(settings: Settings) -> str | None:
    """BOT_LANGUAGE names a language without a message catalog (commands/locale/<lang>/LC_MESSAGES/)."""
    if settings.bot_language in messages.LANGS:
        return None
    lang = settings.bot_language
    return (f"BOT_LANGUAGE={lang} has no message catalog (commands/locale/{lang}/LC_MESSAGES/koordinator.po); "
            f"languages: {', '.join(messages.LANGS)}.")


def build_services(settings: Settings, clock: Clock | None = None, *, auto_migrate: bool = True,
                   allow_generated_keys: bool = True) -> Services:
    if problem := language_problem(settings):
        raise ValueError(problem)
    engine = make_engine(settings.database_url)
    wait_for_database(engine)
    if auto_migrate:
        url = make_url(normalise_url(settings.database_url))
        fresh = url.get_backend_name() == "sqlite" or not has_tables(engine)
        if fresh and needs_migration(engine):
            migrate(settings.database_url)
    keys = load_keys(settings, allow_generate=allow_generated_keys)
    return Services(settings=settings, engine=engine, keys=keys, clock=clock or SystemClock())
