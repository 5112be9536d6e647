"""The Slack adapter: bolt listeners that decode payloads, call `commands`, and render the Reply."""
