"""The platforms: Slack, Teams, console; the ASGI server; rendering; the entry point."""
