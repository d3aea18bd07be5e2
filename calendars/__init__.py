"""A habit calendar a person subscribes to (SPEC §9): a secret .ics feed of planned and
resolved occurrences, built with the `icalendar` package."""
