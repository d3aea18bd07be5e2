"""Your data, in and out (SPEC §9): the JSON and Loop CSV exports, and imports of this
app's JSON, Loop's CSV zip and SQLite backup, and HabitBull's CSV, run by the worker."""
