"""Which format a file is, by its content (never its name), and reading it.

- a zip (`PK\\x03\\x04`) holding a `Habits.csv`: Loop's CSV export;
- `SQLite format 3\\0`: Loop's backup;
- a JSON object whose "format" is "atomic-habits": this app's own export. It is not read
  here (its own path reads every field): `detect_and_read` returns
  `Imported(format=OWN_JSON)` with no habits, and `is_own_json` answers the same question
  alone, so the pipeline can take its JSON path first;
- a text whose first line is HabitBull's header: HabitBull's CSV;
- anything else: ImportRefused.
"""

import json

from transfer.formats import Imported, ImportRefused
from transfer.formats.common import Progress
from transfer.formats.habitbull import is_habitbull, read_habitbull
from transfer.formats.loop_csv import is_loop_csv, read_loop_csv
from transfer.formats.loop_db import is_loop_db, read_loop_db

OWN_JSON = "atomic-habits-json"
_OWN_MARK = "atomic-habits"


def detect_and_read(data: bytes, progress: Progress | None = None) -> Imported:
    """The file read into `Imported`, or ImportRefused with a message for the person.

    `progress(done, total)` is called as the reading goes (the reader's own unit; see
    transfer.formats.common.Progress). Nothing but ImportRefused escapes for a bad file."""
    if is_loop_csv(data):
        return read_loop_csv(data, progress)
    if is_loop_db(data):
        return read_loop_db(data, progress)
    if _looks_like_json(data):
        if is_own_json(data):
            return Imported(format=OWN_JSON)
        if _json_document(data) is None:
            raise ImportRefused(
                "This file is not a format we can import: it starts like JSON but is not valid "
                "JSON."
            )
        raise ImportRefused(
            "This file is not a format we can import: it is JSON, but not this app's export "
            '(its "format" is not "atomic-habits").'
        )
    if is_habitbull(data):
        return read_habitbull(data, progress)
    raise ImportRefused(
        "This file is not a format we can import: we read Loop Habit Tracker's CSV export "
        "(.zip) and backup (.db), HabitBull's CSV export and this app's JSON export."
    )


def is_own_json(data: bytes) -> bool:
    """True for this app's JSON export: a JSON object whose "format" is "atomic-habits"."""
    if not _looks_like_json(data):
        return False
    document = _json_document(data)
    return isinstance(document, dict) and document.get("format") == _OWN_MARK


def _json_document(data: bytes) -> object | None:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def _looks_like_json(data: bytes) -> bool:
    return data.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"{"
