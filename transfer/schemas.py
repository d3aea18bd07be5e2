from ninja import Schema


class ImportQueuedOut(Schema):
    id: int
    status: str


class ImportOut(Schema):
    """An import and what came of it (`error`: why it failed, in words; else "")."""

    id: int
    status: str
    format: str
    habits_created: int
    # Habits the account had already (same name) that took the file's days they lacked.
    habits_merged: int
    instances_created: int
    # Days of the file the account had already: nothing was written for them.
    days_existing: int
    done: int
    total: int
    error: str
