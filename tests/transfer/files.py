"""Foreign files built in code, in each layout and version their apps have written (Loop's
files in ../shared/fixtures are GPL and only for checking by hand, never copied here).

`LoopHabit.entries` are Loop's stored values: (day, value, note) with 2 yes, 1 implied yes,
0 no, -1 unknown, 3 skip, or a numeric habit's amount times 1000.
"""

import csv
import io
import re
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

TOKENS = {2: "YES_MANUAL", 1: "YES_AUTO", 0: "NO", -1: "UNKNOWN", 3: "SKIP"}
CURRENT_HEADER = (
    "Position,Name,Type,Question,Description,FrequencyNumerator,FrequencyDenominator,Color,"
    "Unit,Target Type,Target Value,Archived?"
)


@dataclass
class LoopHabit:
    name: str
    question: str = ""
    description: str = ""
    numerator: int = 1
    denominator: int = 1
    archived: bool = False
    numeric: bool = False
    unit: str = ""
    target: float = 0.0
    at_most: bool = False
    entries: list[tuple[date, int, str]] = field(default_factory=list)
    # False: listed in Habits.csv but not chosen for the export (no folder).
    exported: bool = True


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _folder(position: int, name: str) -> str:
    # As Loop's HabitsCSVExporter.sanitizeFilename, then "%03d %s" trimmed.
    sane = re.sub(r"[^ a-zA-Z0-9._-]+", "", name)[:100]
    return f"{position:03d} {sane}".strip()


def loop_csv_zip(habits: list[LoopHabit], *, layout: str = "current", prefix: str = "") -> bytes:
    """A Loop CSV export. layout: "current" (2025, headers and names), "old" (headerless
    codes, Habits.csv with Question), "oldest" (as "old", Habits.csv without Question)."""
    files: dict[str, str] = {"Habits.csv": _habits_csv(habits, layout)}
    exported = [(i, h) for i, h in enumerate(habits, 1) if h.exported]
    for position, habit in exported:
        folder = _folder(position, habit.name)
        files[f"{folder}/Checkmarks.csv"] = _checkmarks_csv(habit, layout)
        scores = [[day.isoformat(), "0.5000"] for day, _, _ in _newest_first(habit)]
        if layout == "current":
            scores.insert(0, ["Date", "Score"])
        files[f"{folder}/Scores.csv"] = _csv(scores)
    files.update(_root_files([h for _, h in exported], layout))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(prefix + name, text)
    return out.getvalue()


def _habits_csv(habits: list[LoopHabit], layout: str) -> str:
    if layout == "current":
        rows = [CURRENT_HEADER.split(",")]
        for position, h in enumerate(habits, 1):
            numeric = [h.unit, "AT_MOST" if h.at_most else "AT_LEAST", str(h.target)]
            rows.append(
                [f"{position:03d}", h.name, "NUMERICAL" if h.numeric else "YES_NO", h.question]
                + [h.description, str(h.numerator), str(h.denominator), "#FF8F00"]
                + (numeric if h.numeric else ["", "", ""])
                + [str(h.archived).lower()]
            )
        return _csv(rows)
    if layout == "old":
        rows = [["Position", "Name", "Question", "Description", "NumRepetitions", "Interval"]]
        rows[0].append("Color")
        for position, h in enumerate(habits, 1):
            rows.append([f"{position:03d}", h.name, h.question, h.description])
            rows[-1] += [str(h.numerator), str(h.denominator), "#FF8F00"]
        return _csv(rows)
    rows = [["Position", "Name", "Description", "NumRepetitions", "Interval", "Color"]]
    for position, h in enumerate(habits, 1):
        # Before Loop had questions, the description was the question.
        rows.append([f"{position:03d}", h.name, h.question, str(h.numerator)])
        rows[-1] += [str(h.denominator), "#FF8F00"]
    return _csv(rows)


def _newest_first(habit: LoopHabit) -> list[tuple[date, int, str]]:
    return sorted(habit.entries, key=lambda entry: entry[0], reverse=True)


def _checkmarks_csv(habit: LoopHabit, layout: str) -> str:
    if layout == "current":
        rows = [["Date", "Value", "Notes"]]
        rows += [[d.isoformat(), TOKENS.get(v, str(v)), n] for d, v, n in _newest_first(habit)]
        return _csv(rows)
    return _csv([[d.isoformat(), str(v)] for d, v, _ in _newest_first(habit)])


def _root_files(habits: list[LoopHabit], layout: str) -> dict[str, str]:
    """Root Checkmarks.csv / Scores.csv: Date, one column per habit, a trailing comma."""
    header = "Date," + "".join(f"{h.name}," for h in habits) + "\n"
    days = sorted({d for h in habits for d, _, _ in h.entries}, reverse=True)
    checks, scores = header, header
    by_day = [{d: v for d, v, _ in h.entries} for h in habits]
    for day in days:
        values = [values_of.get(day, -1) for values_of in by_day]
        cells = [TOKENS.get(v, str(v)) if layout == "current" else str(v) for v in values]
        checks += day.isoformat() + "," + "".join(f"{c}," for c in cells) + "\n"
        scores += day.isoformat() + "," + "0.5000," * len(habits) + "\n"
    return {"Checkmarks.csv": checks, "Scores.csv": scores}


def zip_of(files: dict[str, bytes | str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def loop_ms(day: date) -> int:
    """Loop's timestamp of a day: milliseconds at 00:00 UTC."""
    return (day - date(1970, 1, 1)).days * 86_400_000


def loop_db(version: int, habits: list[LoopHabit]) -> bytes:
    """A Loop backup of schema `version`, with the columns Loop's migrations give it:
    type and Repetitions.value from 16, target_* and unit from 18, lower-case `id` from 22,
    question from 23, uuid from 24, Repetitions.notes from 25."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "backup.db"
        db = sqlite3.connect(path)
        _loop_schema(db, version)
        for position, habit in enumerate(habits):
            habit_id = _insert_habit(db, version, position, habit)
            for day, value, note in habit.entries:
                _insert_repetition(db, version, habit_id, day, value, note)
        db.execute(f"PRAGMA user_version = {version}")
        db.commit()
        db.close()
        return path.read_bytes()


def _loop_schema(db: sqlite3.Connection, version: int) -> None:
    key = "id" if version >= 22 else "Id"
    habit_columns = [
        f"{key} INTEGER PRIMARY KEY AUTOINCREMENT", "archived INTEGER", "color INTEGER",
        "description TEXT", "freq_den INTEGER", "freq_num INTEGER", "highlight INTEGER",
        "name TEXT", "position INTEGER", "reminder_days INTEGER", "reminder_hour INTEGER",
        "reminder_min INTEGER",
    ]  # fmt: skip
    repetition_columns = [
        f"{key} INTEGER PRIMARY KEY AUTOINCREMENT",
        "habit INTEGER REFERENCES Habits(id)",
        "timestamp INTEGER",
    ]
    if version >= 16:
        habit_columns.append("type INTEGER NOT NULL DEFAULT 0")
        repetition_columns.append("value INTEGER NOT NULL DEFAULT 2")
    if version >= 18:
        habit_columns += [
            "target_type INTEGER NOT NULL DEFAULT 0",
            "target_value REAL NOT NULL DEFAULT 0",
            "unit TEXT NOT NULL DEFAULT ''",
        ]
    if version >= 23:
        habit_columns.append("question TEXT")
    if version >= 24:
        habit_columns.append("uuid TEXT")
    if version >= 25:
        repetition_columns.append("notes TEXT")
    db.execute(f"CREATE TABLE Habits ({', '.join(habit_columns)})")
    db.execute(f"CREATE TABLE Repetitions ({', '.join(repetition_columns)})")
    db.execute("CREATE TABLE android_metadata (locale TEXT)")


def _insert(db: sqlite3.Connection, table: str, row: dict[str, object]) -> int:
    names = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    cursor = db.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(row.values()))
    return cursor.lastrowid or 0


def _insert_habit(db: sqlite3.Connection, version: int, position: int, h: LoopHabit) -> int:
    row: dict[str, object] = {
        "archived": int(h.archived), "color": 5, "freq_den": h.denominator,
        "freq_num": h.numerator, "highlight": 0, "name": h.name, "position": position,
        "reminder_days": 127,
        # Before version 23 the question was kept in `description`.
        "description": h.description if version >= 23 else h.question,
    }  # fmt: skip
    if version >= 16:
        row["type"] = int(h.numeric)
    if version >= 18:
        row.update(target_type=int(h.at_most), target_value=h.target, unit=h.unit)
    if version >= 23:
        row["question"] = h.question
    if version >= 24:
        row["uuid"] = f"{position:032x}"
    return _insert(db, "Habits", row)


def _insert_repetition(
    db: sqlite3.Connection, version: int, habit_id: int, day: date, value: int, note: str
) -> None:
    row: dict[str, object] = {"habit": habit_id, "timestamp": loop_ms(day)}
    if version >= 16:
        row["value"] = value
    elif value != 2:
        raise ValueError("before version 16 every repetition is a done day")
    if version >= 25:
        row["notes"] = note
    elif note:
        raise ValueError("before version 25 a repetition has no note")
    _insert(db, "Repetitions", row)


HABITBULL_HEADER = "HabitName,HabitDescription,HabitCategory,CalendarDate,Value,CommentText"


def habitbull_csv(rows: list[tuple[str, str, str, str, str, str]]) -> bytes:
    """HabitBull's export: its header, then (name, description, category, date, value,
    comment) rows."""
    return (HABITBULL_HEADER + "\n" + _csv([list(row) for row in rows])).encode()
