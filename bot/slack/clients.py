"""The Slack Web API clients, built from the settings (in the server process and in work processes)."""

from __future__ import annotations

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from storage.settings import Settings


def api_url(settings: Settings) -> str:
    """slack_sdk joins method names onto the base URL, so it must end with a slash."""
    url = settings.slack_api_url.strip() or "https://slack.com/api/"
    return url if url.endswith("/") else url + "/"


def interactive_client(settings: Settings) -> AsyncWebClient:
    """For replies while a user waits: one short retry on a rate limit is better than no answer."""
    return AsyncWebClient(token=settings.slack_bot_token, base_url=api_url(settings), retry_handlers=[
        AsyncConnectionErrorRetryHandler(), AsyncRateLimitErrorRetryHandler(max_retry_count=1)])


def delivery_client(settings: Settings) -> AsyncWebClient:
    """For the outbox: no automatic retries at all — the outbox sender owns backoff and Retry-After, and a
    hidden retry after a dropped connection is exactly how a message gets posted twice."""
    return AsyncWebClient(token=settings.slack_bot_token, base_url=api_url(settings), retry_handlers=[])
