"""The one settings object. Every room reads configuration from here, never from os.environ."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(_[a-z]{2,4})?$")  # da, en, sv, nb, se, pt_br

DEFAULT_DISTRICTS = (
    "Indre By",
    "Østerbro",
    "Nørrebro",
    "Vesterbro/Kongens Enghave",
    "Valby",
    "Vanløse",
    "Brønshøj-Husum",
    "Bispebjerg",
    "Amager Øst",
    "Amager Vest",
)
DEFAULT_INDICATORS = (
    "extremist_statements",
    "travel_intent",
    "violence_support",
    "online_propaganda",
    "isolation",
    "school_absence",
)

CommaList = Annotated[tuple[str, ...], NoDecode]


def _split(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    database_url: str = "sqlite:///koordinator.db"
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    teams_app_id: str | None = None
    teams_app_password: str | None = None
    teams_tenant_id: str | None = None
    teams_details_ttl: int = Field(default=600, ge=30)  # seconds until a Teams message with details is a stub
    graph_api_url: str = "https://graph.microsoft.com/v1.0"  # Microsoft Graph: installing the app for members
    graph_login_url: str = "https://login.microsoftonline.com"  # the bot's Entra app gets its Graph token here
    teams_catalog_app_id: str | None = None  # the app's id in the tenant's catalog; unset: looked up in Graph
    pseudonym_key: str | None = None
    data_key: str | None = None
    data_key_previous: str | None = None  # the old master key while `python -m bot keys rotate-master` runs
    admin_users: CommaList = ()
    unit_channel: str | None = None
    secretariat_channel: str | None = None
    timezone: str = "Europe/Copenhagen"
    public_url: str | None = None
    bot_language: str = "da"
    retention_days: int = Field(default=730, ge=1)  # a closed case is erased this many days after closing
    retention_days_unfounded: int = Field(default=180, ge=1)  # … when it closed as unfounded
    files_dir: str = "koordinator-files"  # the console writes every file a reply carries here
    port: int = 3000
    koordinator_dev: bool = False
    keys_file: str | None = None
    unit_profile: str = "copenhagen"  # a shipped profile's name or a YAML path; applies until the first import
    districts: CommaList = DEFAULT_DISTRICTS  # superseded by the unit profile (storage/profile); unused
    indicators: CommaList = DEFAULT_INDICATORS  # superseded by the unit profile (storage/profile); unused
    pii_denylist: CommaList = ()
    review_days: int = Field(default=28, ge=1)
    holiday_categories: CommaList = ("public",)  # add "optional" to skip 1 May, 5 June, 24 and 31 Dec too
    agenda_draft_hours: int = Field(default=48, ge=1)  # draft agenda to the secretariat this long before
    agenda_publish_hours: int = Field(default=24, ge=1)  # published to the unit channel unless held
    meeting_horizon_days: int = Field(default=120, ge=14)  # series occurrences materialised this far ahead
    offer_pending_days: int = Field(default=14, ge=1)  # agenda §5: offers unanswered for longer
    metrics_token: str | None = None  # GET /metrics needs `Authorization: Bearer <token>`; unset: no metrics
    metrics_port: int | None = None  # the worker's /metrics listener; unset: none
    log_format: str = "text"  # "json": one JSON object a line, for log shippers
    lookup_limit: int = Field(default=20, ge=1)  # `concern lookup` per user per day
    command_rate: int = Field(default=30, ge=1)  # commands per user per minute
    work_processes: int = Field(default=2, ge=0, le=32)  # `serve`'s work processes; 0: threads in the server
    work_threads: int = Field(default=4, ge=1, le=64)  # jobs each work process runs at once

    @field_validator("admin_users", "districts", "indicators", "pii_denylist", "holiday_categories",
                     mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        return _split(value)

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in ("text", "json"):
            raise ValueError("LOG_FORMAT must be 'text' or 'json'")
        return value

    @field_validator("bot_language")
    @classmethod
    def _language(cls, value: str) -> str:
        # The languages are the message catalogs in commands/locale/ (checked when the services are built: storage
        # does not look into commands/); here only the shape of a language code.
        value = value.strip().lower()
        if not LANGUAGE_CODE.match(value):
            raise ValueError("BOT_LANGUAGE must be a language code such as 'da', 'en' or 'sv'")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def has_slack(self) -> bool:
        return bool(self.slack_bot_token and (self.slack_signing_secret or self.slack_app_token))

    @property
    def has_teams(self) -> bool:
        return bool(self.teams_app_id and self.teams_app_password)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
