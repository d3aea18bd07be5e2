"""Writing a foreign file's habits and days (`transfer.formats.Imported`) into an account, set
by set, inside the caller's one transaction (SPEC §9; the mappings: docs/DECISIONS.md).

- A habit whose name the account already has (its `action`, the lowest id if several) takes
  the file's days it lacks; any other becomes a new habit: useful, rewarded by the text
  `IMPORTED_REWARD`, at `IMPORTED_TIME`, every 1/2/3/5/7 days nearest to its frequency,
  active unless archived in the file, its course starting on its first imported day.
- A day becomes an instance with `source: "import"` on its date, timed as generation times
  that date in the owner's zone: done → completed at its scheduled time, failed →
  fix_expired, skipped → skipped ("other"). Nothing reminds of it (no next reminder, the
  reminder and the "fix it" note marked as decided). It counts in stats, not in a course.
- Days after the owner's today are not history and are left out; so is a second day of the
  same habit on one date (two habits of one name in the file become one habit).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db import connection

from accounts.models import User
from accounts.timezones import local_today
from core import bulk
from core.bulk import rows_insert
from habits.models import PERIODICITY_CHOICES, Habit
from instances.clock import deadlines
from instances.localdays import local_day
from instances.models import NOTE_MAX_LENGTH, HabitInstance, SkipReason, Source, Status
from instances.services import instances_generate_for
from transfer.formats import DayMark, Imported, ImportedDay, ImportedHabit

# Loop has no time of day: imported habits are planned at 09:00 local time (editable).
IMPORTED_TIME = time(9, 0)
# A useful habit needs exactly one reward (SPEC §2); Loop has none, so a text that says so.
IMPORTED_REWARD = "Set your reward (imported)"
# Rows per INSERT, and so per progress step.
CHUNK = 10_000

Progress = Callable[[int, int], None]

INSTANCE_FIELDS = (
    "habit_id", "user_id", "date", "scheduled_at", "grace_deadline", "fix_deadline", "status",
    "completed_at", "source", "skip_reason", "note", "reminded_at", "missed_notified_at",
    "created_at", "updated_at",
)  # fmt: skip


@dataclass
class ImportResult:
    habits_created: int = 0
    habits_merged: int = 0
    instances_created: int = 0
    days_existing: int = 0
    # Every habit that got a day or was created: their cached stats go after the commit.
    habit_ids: list[int] = field(default_factory=list)
    # The new habits that arrive active: their course goes on from today.
    new_active: list[int] = field(default_factory=list)


def periodicity_for(numerator: int, denominator: int) -> int:
    """The allowed period (1, 2, 3, 5 or 7 days) nearest to `numerator` times in `denominator`
    days; a tie takes the more frequent."""
    if numerator <= 0 or denominator <= 0:
        return 1
    every = denominator / numerator
    return min(PERIODICITY_CHOICES, key=lambda days: (abs(days - every), days))


def habit_action(name: str) -> str:
    return name.strip()[:255] or "Imported habit"


def _note(day: ImportedDay, unit: str) -> str:
    """The day's note, with a numeric habit's amount after it (the only place it is kept)."""
    note = day.note.strip()
    if day.amount is not None:
        amount = f"{day.amount:g} {unit}".strip()
        note = f"{note}\n{amount}" if note else amount
    return note[:NOTE_MAX_LENGTH]


def _new_habit(user: User, group: list[ImportedHabit], today: date) -> Habit:
    first = group[0]
    dates = [d.date for h in group for d in h.days if d.date <= today]
    return Habit(
        user=user,
        action=habit_action(first.name),
        time_of_day=IMPORTED_TIME,
        is_pleasant=False,
        reward_text=IMPORTED_REWARD,
        periodicity_days=periodicity_for(first.numerator, first.denominator),
        start_date=min(dates, default=today),
        is_active=not all(h.archived for h in group),
    )


def _habits_for(
    user: User, groups: dict[str, list[ImportedHabit]], today: date, result: ImportResult
) -> dict[str, Habit]:
    """The habit each name's days go to: the account's own, or a new one (one INSERT)."""
    existing: dict[str, Habit] = {}
    for habit in Habit.objects.filter(user=user, action__in=list(groups)).order_by("-id"):
        existing[habit.action] = habit  # lowest id last, so it wins
    new = [_new_habit(user, group, today) for name, group in groups.items() if name not in existing]
    Habit.objects.bulk_create(new)
    result.habits_created = len(new)
    result.habits_merged = len(existing)
    result.new_active = [habit.pk for habit in new if habit.is_active]
    return existing | {habit.action: habit for habit in new}


STATUS_OF = {
    DayMark.DONE: Status.COMPLETED,
    DayMark.FAILED: Status.FIX_EXPIRED,
    DayMark.SKIPPED: Status.SKIPPED,
}
# (habit, date, status, note): a day to write.
Planned = tuple[Habit, date, str, str]

INSERT_SQL = """
INSERT INTO instances_habitinstance
    (habit_id, user_id, date, scheduled_at, grace_deadline, fix_deadline, status, completed_at,
     source, skip_reason, note, reminded_at, missed_notified_at, created_at, updated_at)
SELECT h.id, h.user_id, v.day, s.at, s.at + make_interval(mins => h.grace_minutes),
       s.at + make_interval(mins => h.grace_minutes + h.fix_minutes), v.status,
       CASE WHEN v.status = %(completed)s THEN s.at END, %(source)s,
       CASE WHEN v.status = %(skipped)s THEN %(other)s ELSE '' END, v.note,
       %(now)s, %(now)s, %(now)s, %(now)s
FROM unnest(%(habit)s::bigint[], %(day)s::date[], %(offset)s::int[], %(status)s::text[],
            %(note)s::text[]) AS v(habit_id, day, offset_minutes, status, note)
JOIN habits_habit h ON h.id = v.habit_id
CROSS JOIN LATERAL (
    SELECT ((v.day + h.time_of_day) AT TIME ZONE 'UTC') - make_interval(mins => v.offset_minutes)
        AS at
) s
ON CONFLICT (habit_id, date) DO NOTHING
"""


def _offset(timezone: str, on: date, at: time) -> int:
    """Minutes east of UTC of wall time `at` on `on` (a DST gap: the offset before it; an
    ambiguous time: the first), as generation resolves it (instances/localdays.py)."""
    day = local_day(timezone, on)
    return day.offset_before if at.hour * 60 + at.minute < day.switch_minute else day.offset_after


def _instance_row(planned: Planned, timezone: str, now: datetime) -> tuple:
    habit, on, status, note = planned
    at = local_day(timezone, on).resolve(habit.time_of_day)
    grace, fix = deadlines(at, grace_minutes=habit.grace_minutes, fix_minutes=habit.fix_minutes)
    return (
        habit.pk, habit.user_id, on, at, grace, fix, status,
        at if status == Status.COMPLETED else None, Source.IMPORT,
        SkipReason.OTHER if status == Status.SKIPPED else "", note, now, now, now, now,
    )  # fmt: skip


def _planned(
    groups: dict[str, list[ImportedHabit]], habits: dict[str, Habit], today: date,
    result: ImportResult,
) -> list[Planned]:  # fmt: skip
    """Every day the account lacks (the rest counted as existing), one row each."""
    taken: set[tuple[int, date]] = set(
        HabitInstance.objects.filter(habit__in=list(habits.values())).values_list(
            "habit_id", "date"
        )
    )
    planned: list[Planned] = []
    for name, group in groups.items():
        habit = habits[name]
        for imported in group:
            for day in imported.days:
                if day.date > today:
                    continue
                if (habit.pk, day.date) in taken:
                    result.days_existing += 1
                    continue
                taken.add((habit.pk, day.date))
                planned.append((habit, day.date, STATUS_OF[day.mark], _note(day, imported.unit)))
    return planned


def import_write(
    *, user: User, imported: Imported, now: datetime, progress: Progress | None = None
) -> ImportResult:
    """Write `imported` into `user`'s account. Call inside a transaction: it is all or
    nothing. Records nothing itself but the instances generated for today and tomorrow of
    the new active habits (one `instance.created`, as for any new habit)."""
    result = ImportResult()
    today = local_today(user.timezone, now)
    groups: dict[str, list[ImportedHabit]] = {}
    for habit in imported.habits:
        groups.setdefault(habit_action(habit.name), []).append(habit)
    habits = _habits_for(user, groups, today, result)
    planned = _planned(groups, habits, today, result)
    total = len(planned)
    for start in range(0, total, CHUNK):
        chunk = planned[start : start + CHUNK]
        result.instances_created += _insert(chunk, timezone=user.timezone, now=now)
        if progress is not None:
            progress(min(start + CHUNK, total), total)
    result.habit_ids = sorted({h.pk for h in habits.values()})
    if result.new_active:
        # The course of a new active habit goes on from today (no `habit.created` recorded:
        # the client reloads on `import.finished`); the history is in place first.
        instances_generate_for(habit_ids=result.new_active, now=now, fresh=True)
    return result


def _quoted(text: str) -> str:
    """An element of a PostgreSQL array literal, whatever it holds."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _literal(elements: Iterable[str]) -> str:
    return "{" + ",".join(elements) + "}"


def _insert(planned: list[Planned], *, timezone: str, now: datetime) -> int:
    """Write these days; how many went in. PostgreSQL: one statement of five arrays, the
    times computed in it from the habit row and each day's UTC offset (a 50,000-day file
    takes a second, where building and adapting every column in Python took many)."""
    if not bulk.arrays():
        # The portable path (SQLite): the rows read before are the account's own and no other
        # import runs for it, so what is offered is what goes in.
        rows = [_instance_row(p, timezone, now) for p in planned]
        rows_insert(HabitInstance, INSTANCE_FIELDS, rows)
        return len(rows)
    # Each array travels as one array literal: psycopg's client-side binding would quote
    # every element of a list on its own (most of the statement's time).
    params = {
        "habit": _literal(str(p[0].pk) for p in planned),
        "day": _literal(p[1].isoformat() for p in planned),
        "offset": _literal(str(_offset(timezone, p[1], p[0].time_of_day)) for p in planned),
        "status": _literal(str(p[2]) for p in planned),
        "note": _literal(_quoted(p[3]) for p in planned),
        "now": now, "source": str(Source.IMPORT), "completed": str(Status.COMPLETED),
        "skipped": str(Status.SKIPPED), "other": str(SkipReason.OTHER),
    }  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(INSERT_SQL, params)
        return cursor.rowcount
