"""The Teams SDK names this adapter uses, imported in one place.

Importing the SDK announces preview features (an ExperimentalWarning) that koordinator does not use; it would
greet every operator at start-up. Note that importing the SDK also loads a `.env` file from the working
directory into the environment (python-dotenv): keep secrets out of such a file, or out of the working directory.
"""

from __future__ import annotations

import warnings

from microsoft_teams.common.experimental import ExperimentalWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ExperimentalWarning)
    from microsoft_teams.api import (
        Account,
        ActivityBase,
        ActivityTypeAdapter,
        AdaptiveCardActionCardResponse,
        AdaptiveCardActionErrorResponse,
        AdaptiveCardActionMessageResponse,
        AdaptiveCardInvokeActivity,
        Attachment,
        ConversationAccount,
        CreateConversationParams,
        FileConsentInvokeActivity,
        InstalledActivity,
        InvokeResponse,
        MessageActivity,
        MessageActivityInput,
        SearchInvokeActivity,
        TaskFetchInvokeActivity,
        TaskSubmitInvokeActivity,
    )
    from microsoft_teams.api.auth.cloud_environment import CloudEnvironment
    from microsoft_teams.api.auth.credentials import TokenProvider
    from microsoft_teams.api.models import HttpError, InnerHttpError
    from microsoft_teams.apps import ActivityContext, App
    from microsoft_teams.apps.http import FastAPIAdapter
    from microsoft_teams.apps.utils import extract_tenant_id
    from microsoft_teams.cards import AdaptiveCard

__all__ = [
    "Account", "ActivityBase", "ActivityContext", "ActivityTypeAdapter", "AdaptiveCard",
    "AdaptiveCardActionCardResponse",
    "AdaptiveCardActionErrorResponse", "AdaptiveCardActionMessageResponse", "AdaptiveCardInvokeActivity", "App",
    "Attachment", "CloudEnvironment", "ConversationAccount", "CreateConversationParams", "FastAPIAdapter",
    "FileConsentInvokeActivity", "HttpError", "InnerHttpError", "InstalledActivity", "InvokeResponse",
    "MessageActivity", "MessageActivityInput", "SearchInvokeActivity", "TaskFetchInvokeActivity",
    "TaskSubmitInvokeActivity",
    "TokenProvider", "extract_tenant_id",
]
