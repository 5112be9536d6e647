"""The worker's report duty: the monthly KPI digest to the leads. The digest itself is a use case of
commands/reports/handlers.py (it reads the report's internals, so it stays there)."""

from __future__ import annotations

from commands.reports.handlers import monthly_digest

__all__ = ["monthly_digest"]
