"""Reports (SPEC.md §5): the anonymous fact store, the five targets, the annual report, charts, suppression."""
