"""The events transfer services record (`core.events.record`); config/reactions.py says what
follows each (the frames are built there: realtime does not import transfer).

Facts of each: job_id, user_id.
"""

# An upload stored: the worker is asked to run it (after the commit).
IMPORT_QUEUED = "import.queued"
# Also `done`, `total`. Recorded outside the import's transaction (the reading and the
# preparing of the rows), so it leaves at once: `import.progress` to the owner's sockets.
IMPORT_PROGRESS = "import.progress"
# The import committed, or failed and wrote nothing: the owner's cached lists and stats go,
# then `import.finished` (the client reloads).
IMPORT_FINISHED = "import.finished"
