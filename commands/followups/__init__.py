"""Follow-ups and reminders (SPEC.md §4): the rules that create, move and cancel them, and the commands."""
