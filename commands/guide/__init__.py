"""The guide: `help`, the command reference (docs/commands.md), the tasks a member's role may do, and a member's
home page (Slack App Home, the Teams home card)."""
