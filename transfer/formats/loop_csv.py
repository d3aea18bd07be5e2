"""Loop Habit Tracker's CSV export: a zip of `Habits.csv` and one folder `NNN <name>/` per
exported habit holding `Checkmarks.csv` and `Scores.csv` (uhabits' HabitsCSVExporter).

Two layouts, told apart per file by its first row:
- current (Loop from mid-2025): `Habits.csv` with `Position,Name,Type,Question,Description,
  FrequencyNumerator,FrequencyDenominator,Color,Unit,Target Type,Target Value,Archived?`,
  `Checkmarks.csv` with the header `Date,Value,Notes` and values YES_MANUAL, YES_AUTO, NO,
  SKIP, UNKNOWN (or the amount times 1000 for a numeric habit);
- older: `Habits.csv` with `Position,Name,Question,Description,NumRepetitions,Interval,Color`
  (before 2021 without `Question`), `Checkmarks.csv` without a header, `date,code` with the
  codes 2 yes, 1 implied yes, 0 no, -1 unknown, 3 skip (a numeric habit: the amount x1000).

Only `Habits.csv` and each folder's `Checkmarks.csv` are read. The root `Checkmarks.csv`
repeats the folders' values without notes, and the `Scores.csv` files are Loop's own scores
(this app computes its strength score from the days): both are ignored. A folder is matched
to its `Habits.csv` row by the number in front of its name (two habits may share a name; the
rest of the folder name is the name with characters removed). A habit listed in `Habits.csv`
without a folder was not chosen for that export and is not imported.

The zip is never trusted: the entry count and the declared sizes are capped before anything
is read, the bytes actually inflated are capped while reading, and entry names are only
compared with the names above (nothing is written to disk; an absolute name or one with `..`
matches nothing).
"""

import re
import zipfile
from dataclasses import dataclass
from datetime import date
from io import BytesIO

from transfer.formats import Imported, ImportedDay, ImportedHabit, ImportRefused
from transfer.formats.common import (
    LOOP_MARKS,
    Progress,
    check_frequency,
    check_name,
    check_note,
    check_text,
    csv_rows,
    decode,
    numeric_day,
    parse_date,
    parse_float,
    parse_int,
    report,
)

FORMAT = "loop-csv"
MAX_ENTRIES = 5_000
MAX_UNCOMPRESSED = 100 * 1024 * 1024

# Loop's Entry.formattedValue names and their stored codes.
_TOKENS = {"YES_MANUAL": 2, "YES_AUTO": 1, "NO": 0, "UNKNOWN": -1, "SKIP": 3}
_FOLDER = re.compile(r"(\d{1,6})(?: .*)?")

# Habits.csv columns: our field -> the header names Loop has used for it.
_COLUMNS = {
    "position": ("Position",),
    "name": ("Name",),
    "type": ("Type",),
    "question": ("Question",),
    "description": ("Description",),
    "numerator": ("FrequencyNumerator", "NumRepetitions"),
    "denominator": ("FrequencyDenominator", "Interval"),
    "unit": ("Unit",),
    "target_type": ("Target Type",),
    "target": ("Target Value",),
    "archived": ("Archived?",),
}
_REQUIRED = ("position", "name", "numerator", "denominator")
# A Habits.csv without a header row: the layouts by their column count.
_HEADERLESS = {
    6: ["Position", "Name", "Description", "NumRepetitions", "Interval", "Color"],
    7: ["Position", "Name", "Question", "Description", "NumRepetitions", "Interval", "Color"],
    12: [
        "Position", "Name", "Type", "Question", "Description", "FrequencyNumerator",
        "FrequencyDenominator", "Color", "Unit", "Target Type", "Target Value", "Archived?",
    ],
}  # fmt: skip


def is_loop_csv(data: bytes) -> bool:
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def read_loop_csv(data: bytes, progress: Progress | None = None) -> Imported:
    """Every exported habit of a Loop CSV zip with its days (oldest first)."""
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except Exception:
        # zipfile parsing a hostile directory raises BadZipFile, but also ValueError,
        # NotImplementedError, struct.error, EOFError...: any of them means "unreadable".
        raise ImportRefused("The zip file is damaged and cannot be opened.") from None
    with archive:
        entries = _entries(archive)
        root = _root(entries)
        budget = _Budget()
        habits = _read_habits(budget.read(archive, entries[root + "Habits.csv"]), root)
        folders = _folders(entries, root, habits)
        report(progress, 0, len(folders))
        imported = Imported(format=FORMAT)
        for done, (position, (folder, info)) in enumerate(sorted(folders.items()), 1):
            row = habits[position]
            where = f"{folder}/Checkmarks.csv"
            row.habit.days = _read_checkmarks(budget.read(archive, info), row, where=where)
            imported.habits.append(row.habit)
            report(progress, done, len(folders))
    return imported


def _entries(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The zip's files by name, after the caps; names that could point anywhere are left out."""
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise ImportRefused(
            f"The zip holds {len(infos)} files; at most {MAX_ENTRIES} are accepted."
        )
    declared = sum(info.file_size for info in infos)
    if declared > MAX_UNCOMPRESSED:
        raise ImportRefused(
            f"The zip unpacks to {declared // 2**20} MB; at most {MAX_UNCOMPRESSED // 2**20} MB "
            "are accepted."
        )
    entries: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename.replace("\\", "/")
        parts = name.split("/")
        unsafe = name.startswith("/") or ":" in parts[0] or ".." in parts
        if unsafe or info.is_dir() or parts[0] == "__MACOSX":
            continue
        if name in entries:
            raise ImportRefused(f"The zip holds {name!r} twice.")
        entries[name] = info
    return entries


def _root(entries: dict[str, zipfile.ZipInfo]) -> str:
    """ "" or the one folder the export was zipped in (a re-zipped unpacked export)."""
    roots = [
        name[: -len("Habits.csv")]
        for name in entries
        if name.count("/") <= 1 and name.rsplit("/", 1)[-1] == "Habits.csv"
    ]
    if not roots:
        raise ImportRefused("This zip is not a Loop Habit Tracker export: it has no Habits.csv.")
    if len(roots) > 1:
        raise ImportRefused("This zip holds more than one Habits.csv; upload one export.")
    return roots[0]


class _Budget:
    """The bytes inflated so far, capped whatever the entries declared."""

    def __init__(self) -> None:
        self.left = MAX_UNCOMPRESSED

    def read(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
        limit = min(info.file_size, self.left)
        try:
            with archive.open(info) as stream:
                data = stream.read(limit + 1)
        except (RuntimeError, NotImplementedError):
            raise ImportRefused(
                f"{info.filename} in the zip is encrypted or compressed in a way we cannot read."
            ) from None
        except Exception as error:
            # As on opening: a damaged entry fails in more ways than BadZipFile.
            raise ImportRefused(
                f"The zip file is damaged: {info.filename} cannot be read ({error})."
            ) from None
        if len(data) > limit:
            raise ImportRefused(
                f"{info.filename} unpacks to more than the zip declared or than "
                f"{MAX_UNCOMPRESSED // 2**20} MB in all; the file is refused."
            )
        self.left -= len(data)
        return data


@dataclass
class _Row:
    habit: ImportedHabit
    # None: the file does not say (older layouts); the values decide.
    numeric: bool | None
    at_most: bool


def _read_habits(data: bytes, root: str) -> dict[int, _Row]:
    where = root + "Habits.csv"
    rows = list(csv_rows(decode(data, where=where), where=where))
    if not rows:
        return {}
    line, first = rows[0]
    if first[0].strip() == "Position":
        header, body = [cell.strip() for cell in first], rows[1:]
    elif len(first) in _HEADERLESS:
        header, body = _HEADERLESS[len(first)], rows
    else:
        raise ImportRefused(f"{where}, line {line}: the first row is not a header Loop writes.")
    columns = _column_indexes(header, where=where)
    habits: dict[int, _Row] = {}
    for line, cells in body:
        here = f"{where}, line {line}"
        if len(cells) < len(header):
            raise ImportRefused(
                f"{here}: the row has {len(cells)} cells; the header names {len(header)}."
            )
        position = parse_int(cells[columns["position"]], what="the position", where=here)
        if position in habits:
            raise ImportRefused(f"{here}: position {position} is listed twice.")
        here = f"{here} (the habit at position {position})"
        habits[position] = _habit_row({key: cells[i] for key, i in columns.items()}, where=here)
    return habits


def _column_indexes(header: list[str], *, where: str) -> dict[str, int]:
    columns: dict[str, int] = {}
    for key, names in _COLUMNS.items():
        for name in names:
            if name in header:
                columns[key] = header.index(name)
                break
    missing = [_COLUMNS[key][0] for key in _REQUIRED if key not in columns]
    if missing:
        raise ImportRefused(f"{where}: the header has no column {', '.join(missing)}.")
    return columns


def _habit_row(cells: dict[str, str], *, where: str) -> _Row:
    numerator = parse_int(cells["numerator"], what="the frequency", where=where)
    denominator = parse_int(cells["denominator"], what="the frequency", where=where)
    check_frequency(numerator, denominator, where=where)
    description = check_text(cells.get("description", ""), what="the description", where=where)
    # Before Loop had a Question field, its Description held the question (as Loop's own
    # database migration 23 moves it).
    question = cells.get("question", description)
    habit = ImportedHabit(
        name=check_name(cells["name"], where=where),
        description=description if "question" in cells else "",
        question=check_text(question, what="the question", where=where),
        numerator=numerator,
        denominator=denominator,
        archived=_flag(cells.get("archived", ""), where=where),
    )
    kind = cells.get("type", "").strip()
    if kind not in ("", "YES_NO", "NUMERICAL"):
        raise ImportRefused(f"{where}: the type {kind!r} is neither YES_NO nor NUMERICAL.")
    at_most = cells.get("target_type", "").strip() == "AT_MOST"
    if kind == "NUMERICAL":
        habit.unit = check_text(cells.get("unit", ""), what="the unit", where=where)
        target = cells.get("target", "").strip()
        habit.target = parse_float(target, what="the target", where=where) if target else None
    habit.numeric = kind == "NUMERICAL"
    return _Row(habit, numeric={"": None, "YES_NO": False}.get(kind, True), at_most=at_most)


def _flag(value: str, *, where: str) -> bool:
    value = value.strip().lower()
    if value not in ("", "true", "false"):
        raise ImportRefused(f"{where}: Archived? is {value!r}, not true or false.")
    return value == "true"


def _folders(
    entries: dict[str, zipfile.ZipInfo], root: str, habits: dict[int, _Row]
) -> dict[int, tuple[str, zipfile.ZipInfo]]:
    """Each habit folder's Checkmarks.csv by the position in the folder's name."""
    folders: dict[int, tuple[str, zipfile.ZipInfo]] = {}
    for name, info in entries.items():
        parts = name[len(root) :].split("/") if name.startswith(root) else []
        if len(parts) != 2 or parts[1] != "Checkmarks.csv":
            continue
        match = _FOLDER.fullmatch(parts[0])
        if match is None:
            continue
        position = int(match.group(1))
        if position not in habits:
            raise ImportRefused(
                f"The folder {parts[0]!r} has no habit at position {position} in Habits.csv."
            )
        if position in folders:
            raise ImportRefused(
                f"Two folders ({folders[position][0]!r}, {parts[0]!r}) are for position {position}."
            )
        folders[position] = (parts[0], info)
    return folders


def _read_checkmarks(data: bytes, row: _Row, *, where: str) -> list[ImportedDay]:
    rows = list(csv_rows(decode(data, where=where), where=where))
    date_at, value_at, notes_at = 0, 1, None
    if rows and rows[0][1][0].strip() == "Date":
        header = [cell.strip() for cell in rows.pop(0)[1]]
        if "Value" not in header:
            raise ImportRefused(f"{where}: the header has no column Value.")
        date_at, value_at = header.index("Date"), header.index("Value")
        notes_at = header.index("Notes") if "Notes" in header else None
    parsed = [_checkmark(line, cells, date_at, value_at, notes_at, where) for line, cells in rows]
    numeric = row.numeric
    if numeric is None:
        # An older file does not say; only a numeric habit stores values beyond Loop's codes.
        numeric = any(value not in LOOP_MARKS for _, _, value, _ in parsed)
    row.habit.numeric = numeric
    days: dict[date, ImportedDay | None] = {}
    for line, day, value, note in parsed:
        here = f"{where}, line {line}"
        if day in days:
            continue  # a repeated day keeps its first row, as in every reader here
        if numeric:
            imported = numeric_day(
                day, value, note=note, target=row.habit.target, at_most=row.at_most, where=here
            )
        else:
            imported = _yes_no_day(day, value, note, where=here)
        days[day] = imported
    return sorted((d for d in days.values() if d is not None), key=lambda d: d.date)


def _checkmark(
    line: int, cells: list[str], date_at: int, value_at: int, notes_at: int | None, where: str
) -> tuple[int, date, int, str]:
    here = f"{where}, line {line}"
    if len(cells) <= max(date_at, value_at):
        raise ImportRefused(f"{here}: the row has no value.")
    day = parse_date(cells[date_at], where=here)
    raw = cells[value_at].strip()
    value = _TOKENS.get(raw)
    if value is None:
        value = parse_int(raw, what="the value", where=here)
    note = ""
    if notes_at is not None and notes_at < len(cells):
        note = check_note(cells[notes_at], where=here)
    return line, day, value, note


def _yes_no_day(day: date, value: int, note: str, *, where: str) -> ImportedDay | None:
    if value not in LOOP_MARKS:
        raise ImportRefused(f"{where}: {value} is not a value of a yes/no habit.")
    mark = LOOP_MARKS[value]
    return None if mark is None else ImportedDay(day, mark, note)
