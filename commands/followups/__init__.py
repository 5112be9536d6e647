"""Follow-ups and reminders (SPEC.md §4): the rules that create, move and cancel them. The `followup`
commands act on a case and live in commands/cases/followups.py."""
