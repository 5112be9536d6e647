"""Cases (SPEC.md §2): intake of concerns, reading cases, the lifecycle, offers and engagements, the mentors' own
work, and each case's checklist of its track's work procedure (§9)."""
