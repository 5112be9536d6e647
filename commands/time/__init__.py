"""Pure time the use cases use: working days and Danish holidays, meeting recurrence, series materialised into
meetings, iCalendar."""
