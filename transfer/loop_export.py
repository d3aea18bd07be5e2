"""The Loop Habit Tracker CSV zip (SPEC §9), in the layout Loop itself writes:

    Habits.csv                      Position,Name,Type,Question,Description,...,Archived?
    001 <name>/Checkmarks.csv       Date,Value,Notes        (one row per instance)
    001 <name>/Scores.csv           Date,Score              (every day, four decimals)
    Checkmarks.csv                  Date,<habit 1>,<habit 2>,    (every day, a trailing comma)
    Scores.csv                      Date,<habit 1>,<habit 2>,

Newest date first, LF line ends, as Loop writes them. The scores are this app's strength
(instances/stats.py: the same multiplier and values), day by day. What the layout cannot
carry (times, pauses, rewards, reminders) is listed in docs/DECISIONS.md.
"""

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from accounts.models import User
from accounts.timezones import local_today
from habits.models import Habit
from instances.models import DONE_STATUSES, HabitInstance, Status
from instances.selectors import RESOLVED_STATUSES
from instances.stats import SCORE_VALUE, score_multiplier
from transfer.export import Progress

HABITS_HEADER = (
    *("Position", "Name", "Type", "Question", "Description", "FrequencyNumerator"),
    *("FrequencyDenominator", "Color", "Unit", "Target Type", "Target Value", "Archived?"),
)
# Loop's own palette (Material colours), handed out by position as Loop does for new habits.
PALETTE = (
    *("#D32F2F", "#E64A19", "#F57C00", "#FF8F00", "#F9A825", "#AFB42B", "#7CB342"),
    *("#388E3C", "#00897B", "#00ACC1", "#039BE5", "#1976D2", "#303F9F", "#5E35B1"),
    *("#8E24AA", "#D81B60", "#5D4037", "#303030", "#757575", "#AAAAAA"),
)
UNKNOWN = "UNKNOWN"
LOOP_VALUE = {
    **dict.fromkeys(DONE_STATUSES, "YES_MANUAL"),
    Status.MISSED: "NO",
    Status.FIX_EXPIRED: "NO",
    Status.SKIPPED: "SKIP",
}  # scheduled and pending: nothing resolved yet, UNKNOWN
# OWASP "CSV injection": a cell a spreadsheet would read as a formula starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What no file system (or zip tool) takes in a folder name: separators, Windows' reserved
# characters, control characters.
PATH_HOSTILE = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]+')
MAX_FOLDER_NAME = 100  # Loop cuts its folder names at 100 characters too


def spreadsheet_safe(text: str) -> str:
    """The cell as a spreadsheet shows it, never run: a formula-like start gets a `'`."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def folder_name(position: int, name: str) -> str:
    """`NNN <name>`, valid on every file system: hostile characters become `_`, and no
    trailing dot or space (Windows drops them). The number keeps two equal names apart."""
    cleaned = PATH_HOSTILE.sub("_", unicodedata.normalize("NFC", name))
    cleaned = cleaned[:MAX_FOLDER_NAME].rstrip(". ")
    return f"{position:03d} {cleaned}".rstrip()


@dataclass
class _Habit:
    habit: Habit
    position: int
    # {date: (status, note)}, one instance per date (a database rule)
    days: dict[date, tuple[str, str]] = field(default_factory=dict)

    @property
    def first(self) -> date | None:
        return min(self.days) if self.days else None

    def value(self, day: date) -> str:
        known = self.days.get(day)
        return LOOP_VALUE.get(known[0], UNKNOWN) if known else UNKNOWN

    def scores(self, dates: Sequence[date]) -> list[float]:
        """The strength at the end of each of `dates` (ascending): the app's moving average
        over the resolved occurrences up to that day (a skip or an open one leaves it)."""
        m = score_multiplier(self.habit.periodicity_days)
        score, out = 0.0, []
        for day in dates:
            status = self.days.get(day, (None,))[0]
            if status in RESOLVED_STATUSES:
                score = score * m + SCORE_VALUE.get(status, 0.0) * (1 - m)
            out.append(score)
        return out


def _read(user: User) -> list[_Habit]:
    """Two queries: the habits (oldest first) and every instance's date, status and note."""
    habits = [
        _Habit(habit, position)
        for position, habit in enumerate(Habit.objects.filter(user=user).order_by("id"), start=1)
    ]
    by_id = {h.habit.pk: h for h in habits}
    rows = (
        HabitInstance.objects.filter(user=user)
        .order_by()
        .values_list("habit_id", "date", "status", "note")
        .iterator(chunk_size=10_000)
    )
    for habit_id, day, status, note in rows:
        by_id[habit_id].days[day] = (status, note)
    return habits


def _csv(rows: Iterable[Sequence[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def _days(first: date, last: date) -> list[date]:
    """Every date from `first` to `last`, ascending."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _habits_csv(habits: list[_Habit]) -> bytes:
    rows: list[Sequence[str]] = [HABITS_HEADER]
    for h in habits:
        habit = h.habit
        where = f" @ {habit.place}" if habit.place else ""
        rows.append(
            (
                f"{h.position:03d}",
                spreadsheet_safe(habit.action),
                "YES_NO",
                "",
                spreadsheet_safe(f"{habit.time_of_day:%H:%M}{where}"),
                "1",
                str(habit.periodicity_days),
                PALETTE[(h.position - 1) % len(PALETTE)],
                "",
                "",
                "",
                "false" if habit.is_active else "true",
            )
        )
    return _csv(rows)


def _checkmarks_csv(h: _Habit, last: date) -> bytes:
    days = sorted((d for d in h.days if d <= last), reverse=True)
    rows = [(d.isoformat(), h.value(d), spreadsheet_safe(h.days[d][1])) for d in days]
    return _csv([("Date", "Value", "Notes"), *rows])


def _scores_csv(dates: list[date], scores: list[float]) -> bytes:
    rows = [
        (d.isoformat(), f"{s:.4f}") for d, s in zip(reversed(dates), reversed(scores), strict=True)
    ]
    return _csv([("Date", "Score"), *rows])


def _root_csv(habits: list[_Habit], dates: list[date], cells: list[list[str]]) -> bytes:
    """`Date,<habit 1>,<habit 2>,`: each row ends in a comma, as Loop's do."""
    header = ["Date", *(spreadsheet_safe(h.habit.action) for h in habits), ""]
    rows = [[d.isoformat(), *(column[i] for column in cells), ""] for i, d in enumerate(dates)]
    return _csv([header, *reversed(rows)])


def _last_day(habits: list[_Habit], today: date) -> date:
    """Today, or the newest resolved day if one lies ahead of it (the clock ran ahead)."""
    resolved = [d for h in habits for d, (status, _) in h.days.items() if status in LOOP_VALUE]
    return max([today, *resolved])


def export_loop_csv(
    user: User, *, today: date | None = None, progress: Progress | None = None
) -> bytes:
    """The zip, in two queries. Dates run from the first instance to today (the user's)."""
    habits = _read(user)
    last = _last_day(habits, today or local_today(user.timezone))
    first = min([last, *(h.first for h in habits if h.first)])
    dates = _days(first, last)
    checkmarks: list[list[str]] = []
    scores: list[list[str]] = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Habits.csv", _habits_csv(habits))
        for done, h in enumerate(habits, start=1):
            folder = folder_name(h.position, h.habit.action)
            daily = h.scores(dates)
            own = dates.index(min(h.first or last, last))
            archive.writestr(f"{folder}/Checkmarks.csv", _checkmarks_csv(h, last))
            archive.writestr(f"{folder}/Scores.csv", _scores_csv(dates[own:], daily[own:]))
            checkmarks.append([h.value(d) for d in dates])
            scores.append([f"{s:.4f}" for s in daily])
            if progress:
                progress(done, len(habits))
        archive.writestr("Checkmarks.csv", _root_csv(habits, dates, checkmarks))
        archive.writestr("Scores.csv", _root_csv(habits, dates, scores))
    return buffer.getvalue()
