"""Loop Habit Tracker's SQLite backup (a `.db`), every schema version from 12 on.

`PRAGMA user_version` is Loop's schema version. The columns are read from `PRAGMA table_info`,
not assumed per version: version 12 has `Habits(Id, archived, color, description, freq_den,
freq_num, highlight, name, position, reminder_*)` and `Repetitions(Id, habit, timestamp)`,
each repetition a done day; later versions add `type` (16), `Repetitions.value` (16: 2 done,
3 skip, 0 no, 1 implied, -1 unknown; a numeric habit's amount times 1000), `target_type`,
`target_value`, `unit` (18), `question` (23; before it the description held the question, as
Loop's migration 23 moves it), `uuid` (24) and `Repetitions.notes` (25).

The file is never trusted: it is opened read-only from a private temporary copy, with
`trusted_schema` off (no function of the file's schema runs), checked with `quick_check`, its
two tables must be tables (a view could compute forever), and every query is bounded in time.
"""

import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from transfer.formats import Imported, ImportedDay, ImportedHabit, ImportRefused
from transfer.formats.common import (
    LOOP_MARKS,
    Progress,
    check_frequency,
    check_name,
    check_note,
    check_text,
    numeric_day,
    report,
)

FORMAT = "loop-db"
MAGIC = b"SQLite format 3\x00"
OLDEST_VERSION = 12
# A query of the file running longer than this is stopped (a crafted file must not hold the
# worker); a real backup of years of history reads in well under a second.
QUERY_SECONDS = 10.0
_PROGRESS_EVERY = 5_000
_DAY_MS = 86_400_000
_EPOCH = date(1970, 1, 1)
# Timestamps outside these days are not dates Loop writes (it started in 2015).
_FIRST_DAY, _LAST_DAY = date(1970, 1, 2), date(2100, 1, 1)


def is_loop_db(data: bytes) -> bool:
    return data.startswith(MAGIC)


def read_loop_db(data: bytes, progress: Progress | None = None) -> Imported:
    """Every habit of a Loop backup with its days (oldest first), in Loop's order."""
    try:
        with _opened(data) as db:
            return _read(db, progress)
    except sqlite3.OperationalError as error:
        if "interrupt" in str(error):
            raise ImportRefused(
                f"Reading the Loop backup took longer than {QUERY_SECONDS:g} s; it is refused."
            ) from None
        raise ImportRefused(
            f"The Loop backup is damaged or not a Loop database ({error})."
        ) from None
    except UnicodeDecodeError:
        raise ImportRefused(
            "The Loop backup is damaged: it holds text that is not UTF-8."
        ) from None
    except sqlite3.Error as error:
        raise ImportRefused(
            f"The Loop backup is damaged or not a Loop database ({error})."
        ) from None


@contextmanager
def _opened(data: bytes) -> Iterator[sqlite3.Connection]:
    """The bytes as a read-only database in a private temporary file, removed afterwards."""
    handle, name = tempfile.mkstemp(suffix=".db")
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        # immutable: no locks and no journal or WAL file is looked for beside the copy.
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            deadline = time.monotonic() + QUERY_SECONDS
            db.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
            db.execute("PRAGMA trusted_schema = OFF")
            yield db
        finally:
            db.close()
    finally:
        path.unlink(missing_ok=True)


def _read(db: sqlite3.Connection, progress: Progress | None) -> Imported:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version < OLDEST_VERSION:
        raise ImportRefused(
            f"This Loop backup's schema version {version} is not supported: export it again "
            f"from a newer Loop (schema version {OLDEST_VERSION} or later)."
        )
    problem = db.execute("PRAGMA quick_check(1)").fetchone()[0]
    if problem != "ok":
        raise ImportRefused(f"The Loop backup is damaged ({problem}).")
    habit_columns = _columns(db, "Habits", version)
    repetition_columns = _columns(db, "Repetitions", version)
    _require(habit_columns, {"id", "name", "freq_num", "freq_den"}, "Habits", version)
    _require(repetition_columns, {"habit", "timestamp"}, "Repetitions", version)
    habits = _habits(db, habit_columns)
    _repetitions(db, repetition_columns, habits, progress)
    imported = Imported(format=FORMAT)
    for row in habits.values():
        row.habit.days.sort(key=lambda day: day.date)
        imported.habits.append(row.habit)
    return imported


def _columns(db: sqlite3.Connection, table: str, version: int) -> set[str]:
    kind = db.execute(
        "SELECT type FROM sqlite_master WHERE lower(name) = lower(?)", (table,)
    ).fetchone()
    if kind is None or kind[0] != "table":
        raise ImportRefused(
            f"This Loop backup's schema version {version} is not supported: it has no "
            f"{table} table."
        )
    # Loop wrote `Id` before version 22 and `id` after it: names compare in lower case.
    return {row[1].lower() for row in db.execute(f"PRAGMA table_info({table})")}


def _require(columns: set[str], needed: set[str], table: str, version: int) -> None:
    missing = sorted(needed - columns)
    if missing:
        raise ImportRefused(
            f"This Loop backup's schema version {version} is not supported: its {table} "
            f"table has no column {', '.join(missing)}."
        )


@dataclass
class _Row:
    habit: ImportedHabit
    at_most: bool
    # The days read so far: a repeated (habit, day) keeps its first row.
    seen: set[date]


def _select(columns: set[str], wanted: dict[str, str]) -> str:
    """The wanted columns, each replaced by its default when this version lacks it."""
    return ", ".join(name if name in columns else default for name, default in wanted.items())


_HABIT_COLUMNS = {
    "id": "NULL",
    "name": "''",
    "description": "''",
    "question": "NULL",
    "freq_num": "1",
    "freq_den": "1",
    "archived": "0",
    "position": "0",
    "type": "0",
    "target_type": "0",
    "target_value": "0",
    "unit": "''",
}


def _habits(db: sqlite3.Connection, columns: set[str]) -> dict[int, _Row]:
    query = f"SELECT {_select(columns, _HABIT_COLUMNS)} FROM Habits ORDER BY position, id"  # noqa: S608 (names from our own list)
    habits: dict[int, _Row] = {}
    for number, values in enumerate(db.execute(query), 1):
        row = _habit(number, dict(zip(_HABIT_COLUMNS, values, strict=True)))
        habits[values[0]] = row
    return habits


def _habit(number: int, values: dict[str, object]) -> _Row:
    where = f"The backup's habit at position {number} (Habits row id {values['id']})"
    numerator = _int(values["freq_num"], "the frequency", where)
    denominator = _int(values["freq_den"], "the frequency", where)
    check_frequency(numerator, denominator, where=where)
    description = _text(values["description"], "the description", where)
    has_question = values["question"] is not None
    question = _text(values["question"], "the question", where) if has_question else description
    numeric = _int(values["type"], "the type", where) == 1
    habit = ImportedHabit(
        name=check_name(_text(values["name"], "the name", where), where=where),
        description=description if has_question else "",
        question=question,
        numerator=numerator,
        denominator=denominator,
        archived=bool(_int(values["archived"] or 0, "archived", where)),
        numeric=numeric,
    )
    if numeric:
        habit.unit = _text(values["unit"], "the unit", where)
        target = values["target_value"]
        habit.target = float(target) if isinstance(target, int | float) else None
    at_most = numeric and values["target_type"] == 1
    return _Row(habit, at_most=at_most, seen=set())


def _int(value: object, what: str, where: str) -> int:
    if isinstance(value, int):
        return value
    if value is None:
        raise ImportRefused(f"{where}: {what} is missing.")
    raise ImportRefused(f"{where}: {what} {value!r} is not a whole number.")


def _text(value: object, what: str, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ImportRefused(f"{where}: {what} is not text.")
    return check_text(value, what=what, where=where)


_REPETITION_COLUMNS = {"habit": "NULL", "timestamp": "NULL", "value": "2", "notes": "''"}


def _repetitions(
    db: sqlite3.Connection, columns: set[str], habits: dict[int, _Row], progress: Progress | None
) -> None:
    """Each habit's days. Rows of no habit or no timestamp are left out and a repeated
    (habit, day) keeps its first row, as Loop's own migration 22 does."""
    total = db.execute("SELECT count(*) FROM Repetitions").fetchone()[0]
    report(progress, 0, total)
    query = f"SELECT rowid, {_select(columns, _REPETITION_COLUMNS)} FROM Repetitions ORDER BY rowid"  # noqa: S608 (names from our own list)
    for done, (rowid, habit_id, timestamp, value, notes) in enumerate(db.execute(query), 1):
        row = habits.get(habit_id)
        if row is not None and timestamp is not None:
            _repetition(row, rowid, timestamp, value, notes)
        if done % _PROGRESS_EVERY == 0 and done < total:
            report(progress, done, total)
    report(progress, total, total)


def _repetition(row: _Row, rowid: int, timestamp: object, value: object, notes: object) -> None:
    where = f"Repetitions row {rowid} (habit {row.habit.name!r})"
    day = _day(timestamp, where)
    if day in row.seen:
        return
    row.seen.add(day)
    value = _int(value, "the value", where)
    note = check_note(_text(notes, "the note", where), where=where)
    if row.habit.numeric:
        imported = numeric_day(
            day, value, note=note, target=row.habit.target, at_most=row.at_most, where=where
        )
    else:
        if value not in LOOP_MARKS:
            raise ImportRefused(f"{where}: {value} is not a value of a yes/no habit.")
        mark = LOOP_MARKS[value]
        imported = None if mark is None else ImportedDay(day, mark, note)
    if imported is not None:
        row.habit.days.append(imported)


def _day(timestamp: object, where: str) -> date:
    """Loop's timestamp: milliseconds at 00:00 UTC of the local date."""
    if isinstance(timestamp, int):
        days = timestamp // _DAY_MS
        if (_FIRST_DAY - _EPOCH).days <= days <= (_LAST_DAY - _EPOCH).days:
            return _EPOCH + timedelta(days=days)
    raise ImportRefused(f"{where}: the timestamp {timestamp!r} is not a date.")
