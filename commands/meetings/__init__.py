"""Meetings and agendas (SPEC.md §3): series and ad hoc meetings, changes, the agenda (built, edited, published),
minutes, frozen publications and each member's calendar feed."""
