"""What every foreign format (Loop's CSV zip and SQLite backup, HabitBull's CSV) is read into
before anything is written: plain data, no models. The formats' readers live beside this
module (one per format) and `detect` picks one by the file's content, never its name. This
app's own JSON export is read by its own path (transfer/json_import.py): it carries every
field, which this shape does not.

A reader refuses a file it cannot read with `ImportRefused(message)`: the message is shown to
the person as the import's `error`, so it says what is wrong in their words.
"""

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class ImportRefused(Exception):
    """The file cannot be imported; `str(error)` is what the person reads."""


class DayMark(StrEnum):
    """What a day of history becomes (Loop's YES_MANUAL / NO / SKIP; an implied yes or an
    unknown day is not read at all: it creates nothing)."""

    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class ImportedDay:
    date: date
    mark: DayMark
    note: str = ""
    # A numeric habit's amount that day (Loop stores the amount times 1000; here the real amount).
    amount: float | None = None


@dataclass
class ImportedHabit:
    name: str
    description: str = ""
    question: str = ""
    # Loop's frequency: `numerator` times in `denominator` days (1/1 daily, 3/7 thrice a week).
    numerator: int = 1
    denominator: int = 1
    archived: bool = False
    numeric: bool = False
    unit: str = ""
    target: float | None = None
    days: list[ImportedDay] = field(default_factory=list)


@dataclass
class Imported:
    """A whole file: its format's name (as `GET /api/import/{id}/` reports it) and habits."""

    format: str
    habits: list[ImportedHabit] = field(default_factory=list)

    @property
    def day_count(self) -> int:
        return sum(len(h.days) for h in self.habits)
