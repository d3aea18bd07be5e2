"""What every reader shares: the limits, the checks of a text cell, CSV rows with their line
numbers, and the mark a numeric habit's amount becomes. Pure code: no Django, no database."""

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import date

from transfer.formats import DayMark, ImportedDay, ImportRefused

# progress(done, total): `total` is in the reader's own unit (habits for a zip, rows for a
# database or a HabitBull file); `done` climbs to it. Called a bounded number of times.
Progress = Callable[[int, int], None]

# The columns these land in (habits.Habit.action, instances.HabitInstance.note); a test
# keeps them equal, this package stays free of Django.
NAME_MAX_LENGTH = 255
NOTE_MAX_LENGTH = 1_000
# Any other text kept (a description, a question, a unit): generous, but bounded.
TEXT_MAX_LENGTH = 10_000

# A cell a spreadsheet would run as a formula when this app's own CSV export is opened:
# `=` or `@` first, or `+` / `-` followed by something that is neither a number nor a space
# ("-5", "+1", "- felt good" are plain text; "-cmd|' /C calc'!A0", "+A1" are not).
_FORMULA = re.compile(r"[=@]|[+-](?![\d.\s]|$)")

# Dates as Loop and HabitBull write them.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def check_text(value: str, *, what: str, where: str, limit: int = TEXT_MAX_LENGTH) -> str:
    """`value` unchanged, or ImportRefused when it is formula-like, holds a NUL or is too long.

    `what` names the cell ("the name", "the note") and `where` the place ("Habits.csv, line
    3") in the refusal the person reads."""
    if _FORMULA.match(value):
        raise ImportRefused(
            f"{where}: {what} {_quote(value)} starts like a spreadsheet formula "
            "(=, +, -, @); such cells are refused so they cannot run in a spreadsheet later. "
            "Edit the cell and import again."
        )
    if "\x00" in value:
        raise ImportRefused(f"{where}: {what} contains a NUL character.")
    if len(value) > limit:
        raise ImportRefused(
            f"{where}: {what} is {len(value)} characters long; at most {limit} are allowed."
        )
    return value


def check_name(value: str, *, where: str) -> str:
    """A habit's name: present, within the limit, not formula-like."""
    name = value.strip()
    if not name:
        raise ImportRefused(f"{where}: the habit has no name.")
    if len(name) > NAME_MAX_LENGTH:
        raise ImportRefused(
            f"{where}: the habit's name is {len(name)} characters long; "
            f"at most {NAME_MAX_LENGTH} are allowed."
        )
    return check_text(name, what="the name", where=where, limit=NAME_MAX_LENGTH)


def check_note(value: str, *, where: str) -> str:
    return check_text(value.strip(), what="the note", where=where, limit=NOTE_MAX_LENGTH)


def _quote(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "…")


def decode(data: bytes, *, where: str) -> str:
    """UTF-8 text (a leading byte-order mark dropped), or ImportRefused naming the line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ImportRefused(
            f"{where}, line {line}: the text is not UTF-8; save the file as UTF-8 and import again."
        ) from None


def csv_rows(text: str, *, where: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) for each non-empty row; a broken row is ImportRefused."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                yield reader.line_num, row
    except csv.Error as error:
        raise ImportRefused(f"{where}, line {reader.line_num + 1}: {error}.") from None


def parse_date(value: str, *, where: str, us: bool = False) -> date:
    """A YYYY-MM-DD date (and M/D/YYYY when `us`), or ImportRefused quoting the cell."""
    value = value.strip()
    try:
        if _ISO_DATE.fullmatch(value):
            return date.fromisoformat(value)
        if us and (match := _US_DATE.fullmatch(value)):
            month, day, year = (int(part) for part in match.groups())
            return date(year, month, day)
    except ValueError:
        pass
    expected = "YYYY-MM-DD or M/D/YYYY" if us else "YYYY-MM-DD"
    raise ImportRefused(f"{where}: {_quote(value)} is not a date ({expected}).")


def parse_int(value: str, *, what: str, where: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise ImportRefused(f"{where}: {what} {_quote(value)} is not a whole number.") from None


def parse_float(value: str, *, what: str, where: str) -> float:
    try:
        number = float(value.strip())
    except ValueError:
        raise ImportRefused(f"{where}: {what} {_quote(value)} is not a number.") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ImportRefused(f"{where}: {what} {_quote(value)} is not a number.")
    return number


def check_frequency(numerator: int, denominator: int, *, where: str) -> None:
    if numerator < 1 or denominator < 1:
        raise ImportRefused(
            f"{where}: the frequency {numerator} in {denominator} days is not a frequency."
        )


# Loop's values of a yes/no day (Entry.kt): YES_MANUAL 2, YES_AUTO 1, NO 0, UNKNOWN -1,
# SKIP 3. An implied yes or an unknown day is not read: it creates nothing.
LOOP_MARKS: dict[int, DayMark | None] = {
    2: DayMark.DONE,
    1: None,
    0: DayMark.FAILED,
    -1: None,
    3: DayMark.SKIPPED,
}
LOOP_SKIP = 3
LOOP_UNKNOWN = -1


def numeric_day(
    day: date, value: int, *, note: str, target: float | None, at_most: bool, where: str
) -> ImportedDay | None:
    """A numeric habit's day from Loop's stored value (the amount times 1000).

    Loop keeps UNKNOWN (-1) and SKIP (3) for a numeric habit too. Otherwise the day is DONE
    when the person did some of it (at-least habits: any amount above 0) or kept under the
    limit (at-most habits: the amount at most the target, 0 included), and FAILED when not;
    the amount is kept either way."""
    if value == LOOP_UNKNOWN:
        return None
    if value == LOOP_SKIP:
        return ImportedDay(day, DayMark.SKIPPED, note)
    if value < 0:
        raise ImportRefused(f"{where}: the amount {value / 1000:g} is negative.")
    amount = value / 1000
    done = amount <= (target or 0) if at_most else amount > 0
    return ImportedDay(day, DayMark.DONE if done else DayMark.FAILED, note, amount)


def report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)
