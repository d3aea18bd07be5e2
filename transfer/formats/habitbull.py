"""HabitBull's CSV export: `HabitName,HabitDescription,HabitCategory,CalendarDate,Value,
CommentText`, one row per habit and touched day, in no particular order.

As Loop's own HabitBull importer reads it: a habit is a name (its first row gives the
description; the category is dropped), every habit is daily; Value 1 is a done day and 0 a
failed one (HabitBull writes a row only for a day the person marked); a habit with any
Value above 1 is numeric, its days done with that amount (0 failed); a negative Value (seen
in real files) is no mark and creates nothing. CommentText is the day's note. A day listed
again (real exports repeat rows) keeps its first row. Dates are YYYY-MM-DD or, as HabitBull
writes them in the United States, M/D/YYYY.
"""

from datetime import date

from transfer.formats import DayMark, Imported, ImportedDay, ImportedHabit, ImportRefused
from transfer.formats.common import (
    Progress,
    check_name,
    check_note,
    check_text,
    csv_rows,
    decode,
    parse_date,
    parse_float,
    report,
)

FORMAT = "habitbull-csv"
HEADER = ["HabitName", "HabitDescription", "HabitCategory", "CalendarDate", "Value", "CommentText"]
WHERE = "the HabitBull file"
_PROGRESS_EVERY = 5_000


def is_habitbull(data: bytes) -> bool:
    first = data.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].strip()
    return first == ",".join(HEADER).encode()


def read_habitbull(data: bytes, progress: Progress | None = None) -> Imported:
    """Every habit of a HabitBull CSV with its days (oldest first), in order of appearance."""
    rows = list(csv_rows(decode(data, where=WHERE), where=WHERE))
    if not rows or [cell.strip() for cell in rows[0][1]] != HEADER:
        raise ImportRefused(f"{WHERE}: the first line is not HabitBull's header.")
    body = rows[1:]
    report(progress, 0, len(body))
    habits: dict[str, ImportedHabit] = {}
    values: dict[str, dict[date, tuple[float, str]]] = {}
    for done, (line, cells) in enumerate(body, 1):
        _row(line, cells, habits, values)
        if done % _PROGRESS_EVERY == 0 and done < len(body):
            report(progress, done, len(body))
    for name, habit in habits.items():
        habit.numeric = any(value > 1 for value, _ in values[name].values())
        habit.days = [
            day
            for on, (value, note) in sorted(values[name].items())
            if (day := _day(on, value, note, numeric=habit.numeric)) is not None
        ]
    report(progress, len(body), len(body))
    return Imported(format=FORMAT, habits=list(habits.values()))


def _row(
    line: int,
    cells: list[str],
    habits: dict[str, ImportedHabit],
    values: dict[str, dict[date, tuple[float, str]]],
) -> None:
    where = f"{WHERE}, line {line}"
    if len(cells) < len(HEADER) - 1:
        raise ImportRefused(f"{where}: the row has {len(cells)} cells; HabitBull writes 6.")
    name = check_name(cells[0], where=where)
    check_text(cells[2], what="the category", where=where)
    on = parse_date(cells[3], where=where, us=True)
    value = parse_float(cells[4], what="the value", where=where)
    note = check_note(cells[5] if len(cells) > 5 else "", where=where)
    if name not in habits:
        description = check_text(cells[1].strip(), what="the description", where=where)
        habits[name] = ImportedHabit(name=name, description=description)
        values[name] = {}
    # Real exports repeat rows; as everywhere here, a repeated day keeps its first row.
    values[name].setdefault(on, (value, note))


def _day(on: date, value: float, note: str, *, numeric: bool) -> ImportedDay | None:
    if value < 0:
        return None
    if numeric:
        return ImportedDay(on, DayMark.DONE if value > 0 else DayMark.FAILED, note, value)
    return ImportedDay(on, DayMark.DONE if value >= 1 else DayMark.FAILED, note)
