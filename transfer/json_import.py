"""This app's own JSON export read back (SPEC §9): `{"format": "atomic-habits", "version": 1,
..., "habits": [...], "instances": [...], "pauses": [...]}`, habits and instances in their
REST shapes. Unlike a foreign file it carries every field, so everything is restored as it
was: every rule field of a habit (the related pleasant habit and the cue habit re-linked to
the new ids), each instance's status, times, note, source and skip reason, and the pauses.

Into an account that has a habit of the same `action` already, that habit is kept as it is
and takes only the instances it lacks (by date), as a foreign import does; a pause that
exists already (same habit, dates and reason) is not made twice. So importing the same file
twice creates nothing the second time. The account's own settings (email, timezone, quiet
hours) are not taken from the file.
"""

import json
from datetime import date, datetime, time
from typing import Annotated, Literal

from django.db.models import Q
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from accounts.models import User
from core.bulk import rows_insert
from habits.models import (
    MAX_CUE_DELAY_MINUTES,
    MAX_FIX_MINUTES,
    MAX_GRACE_MINUTES,
    Habit,
    reminders_problem,
)
from instances.models import NOTE_MAX_LENGTH, HabitInstance, Pause, SkipReason, Source, Status
from instances.program import programs_of
from instances.services import instances_generate_for
from transfer.formats import ImportRefused
from transfer.importing import CHUNK, IMPORTED_REWARD, ImportResult, Progress

FORMAT = "atomic-habits"
VERSION = 1
Text255 = Annotated[str, Field(max_length=255)]


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class HabitRow(_In):
    id: int
    action: Annotated[str, Field(min_length=1, max_length=255)]
    place: Text255 = ""
    time_of_day: time
    is_pleasant: bool = False
    reward_text: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    related_pleasant_habit: int | None = None
    periodicity_days: Literal[1, 2, 3, 5, 7] = 1
    repeat_limit: Literal[21, 30, 45] = 21
    grace_minutes: Annotated[int, Field(ge=0, le=MAX_GRACE_MINUTES)] = 30
    fix_minutes: Annotated[int, Field(ge=0, le=MAX_FIX_MINUTES)] = 120
    start_date: date
    is_public: bool = False
    is_active: bool = True
    reminders: list[int] = Field(default_factory=lambda: [0], min_length=1, max_length=5)
    cue_habit_id: int | None = None
    cue_delay_minutes: Annotated[int, Field(ge=0, le=MAX_CUE_DELAY_MINUTES)] = 0


class InstanceRow(_In):
    habit_id: int
    date: date
    scheduled_at: datetime
    grace_deadline: datetime
    fix_deadline: datetime
    status: Status
    completed_at: datetime | None = None
    source: Source | None = None
    skip_reason: SkipReason | None = None
    note: Annotated[str, Field(max_length=NOTE_MAX_LENGTH)] | None = None
    # The pause that skipped it (linked again, so deleting the pause gives it back).
    pause_id: int | None = None


class PauseRow(_In):
    id: int | None = None
    start_date: date
    end_date: date
    habit_id: int | None = None
    reason: SkipReason = SkipReason.REST


class Export(_In):
    format: Literal["atomic-habits"]
    version: Literal[1]
    habits: list[HabitRow] = Field(default_factory=list)
    instances: list[InstanceRow] = Field(default_factory=list)
    pauses: list[PauseRow] = Field(default_factory=list)


def _parse(data: bytes) -> Export:
    try:
        document = json.loads(data)
        return Export.model_validate(document)
    except (ValueError, UnicodeDecodeError) as error:
        if isinstance(error, ValidationError):
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ImportRefused(f"This export is damaged: {where}: {first['msg']}.") from None
        raise ImportRefused("This file is not valid JSON.") from None


def _habit(user: User, row: HabitRow, related: Habit | None) -> Habit:
    if problem := reminders_problem(row.reminders, row.grace_minutes, row.fix_minutes):
        raise ImportRefused(f"This export is damaged: the reminders of {row.action!r}: {problem}")
    reward = row.reward_text
    if not row.is_pleasant and related is None and reward is None:
        reward = IMPORTED_REWARD  # its pleasant habit was not in the file, or not pleasant
    return Habit(
        user=user, action=row.action, place=row.place, time_of_day=row.time_of_day,
        is_pleasant=row.is_pleasant, reward_text=None if row.is_pleasant else reward,
        related_pleasant_habit=None if row.is_pleasant or reward else related,
        periodicity_days=row.periodicity_days, repeat_limit=row.repeat_limit,
        grace_minutes=row.grace_minutes, fix_minutes=row.fix_minutes, start_date=row.start_date,
        is_public=row.is_public, is_active=row.is_active, reminders=row.reminders,
        cue_delay_minutes=row.cue_delay_minutes,
    )  # fmt: skip


def _restore_habits(user: User, export: Export, result: ImportResult) -> dict[int, Habit]:
    """The account's habit for each habit id of the file: its own of that action, or a new one
    (pleasant ones and those with a reward text first, then those rewarded by a pleasant one,
    then the cues linked)."""
    own: dict[str, Habit] = {}
    actions = [h.action for h in export.habits]
    for habit in Habit.objects.filter(user=user, action__in=actions).order_by("-id"):
        own[habit.action] = habit
    by_file: dict[int, Habit] = {}
    for row in export.habits:
        if row.action in own:
            by_file[row.id] = own[row.action]
    rows = [r for r in export.habits if r.id not in by_file]
    for second in (False, True):
        batch = {
            row.id: _habit(user, row, _pleasant(by_file.get(row.related_pleasant_habit or 0)))
            for row in rows
            if (row.related_pleasant_habit is not None and not row.is_pleasant) == second
        }
        Habit.objects.bulk_create(batch.values())
        by_file |= batch
    created = {by_file[r.id].pk for r in rows}
    cued = []
    for row in rows:
        cue = by_file.get(row.cue_habit_id or 0)
        habit = by_file[row.id]
        if cue is not None and cue.pk != habit.pk:
            habit.cue_habit = cue
            cued.append(habit)
    Habit.objects.bulk_update(cued, ["cue_habit"])
    result.habits_created = len(rows)
    result.habits_merged = len({h.pk for h in by_file.values()} - created)
    result.new_active = sorted(h.pk for h in by_file.values() if h.pk in created and h.is_active)
    return by_file


def _pleasant(habit: Habit | None) -> Habit | None:
    return habit if habit is not None and habit.is_pleasant else None


INSTANCE_FIELDS = (
    "habit_id", "user_id", "date", "scheduled_at", "grace_deadline", "fix_deadline", "status",
    "completed_at", "source", "skip_reason", "note", "pause_id", "reminded_at",
    "missed_notified_at", "created_at", "updated_at",
)  # fmt: skip
DONE = (Status.COMPLETED, Status.COMPLETED_LATE)


def _instance(row: InstanceRow, habit: Habit, pause: Pause | None, now: datetime) -> tuple:
    done = row.status in DONE
    skipped = row.status == Status.SKIPPED
    # An instance still ahead keeps its reminders; anything else (history, or one the clock
    # will move at once) is not reminded of again.
    ahead = row.status == Status.SCHEDULED and row.scheduled_at > now
    decided = None if ahead else now
    completed_at = (row.completed_at or row.scheduled_at) if done else None
    # A row breaking the deadlines' order is refused by the database: say so in words.
    if not row.scheduled_at <= row.grace_deadline <= row.fix_deadline:
        raise ImportRefused(f"This export is damaged: the times of {row.date} are out of order.")
    return (
        habit.pk, habit.user_id, row.date, row.scheduled_at, row.grace_deadline,
        row.fix_deadline, row.status, completed_at, row.source or "",
        (row.skip_reason or SkipReason.OTHER) if skipped else "", row.note or "",
        pause.pk if skipped and pause is not None else None, decided, decided, now, now,
    )  # fmt: skip


def _restore_instances(
    export: Export, habits: dict[int, Habit], pauses: dict[int, Pause], now: datetime,
    progress: Progress | None, result: ImportResult,
) -> None:  # fmt: skip
    taken = set(
        HabitInstance.objects.filter(habit__in=list(habits.values())).values_list(
            "habit_id", "date"
        )
    )
    rows = []
    for row in export.instances:
        habit = habits.get(row.habit_id)
        if habit is None:
            raise ImportRefused(f"This export is damaged: habit {row.habit_id} is not in it.")
        if (habit.pk, row.date) in taken:
            result.days_existing += 1
            continue
        taken.add((habit.pk, row.date))
        rows.append(_instance(row, habit, pauses.get(row.pause_id or 0), now))
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        rows_insert(HabitInstance, INSTANCE_FIELDS, chunk)
        result.instances_created += len(chunk)
        if progress is not None:
            progress(min(start + CHUNK, len(rows)), len(rows))


def _restore_pauses(user: User, export: Export, habits: dict[int, Habit]) -> dict[int, Pause]:
    """The account's pause for each pause id of the file: the same one (habit, dates, reason)
    if it has it, else a new one."""
    by_file: dict[int, Pause] = {}
    wanted = []
    for row in export.pauses:
        habit = habits.get(row.habit_id) if row.habit_id is not None else None
        if row.habit_id is not None and habit is None:
            raise ImportRefused(f"This export is damaged: habit {row.habit_id} is not in it.")
        if row.end_date < row.start_date:
            raise ImportRefused("This export is damaged: a pause ends before it starts.")
        same = Q(user=user, start_date=row.start_date, end_date=row.end_date, reason=row.reason)
        pause = Pause.objects.filter(same, habit=habit).order_by("id").first()
        if pause is None:
            pause = Pause(user=user, habit=habit, start_date=row.start_date,
                          end_date=row.end_date, reason=row.reason)  # fmt: skip
            wanted.append(pause)
        if row.id is not None:
            by_file[row.id] = pause
    Pause.objects.bulk_create(wanted)
    return by_file


def import_own(
    *, user: User, data: bytes, now: datetime, progress: Progress | None = None
) -> ImportResult:
    """Restore an export into `user`'s account; call inside a transaction (all or nothing)."""
    export = _parse(data)
    result = ImportResult()
    merged = set(
        Habit.objects.filter(user=user, action__in=[h.action for h in export.habits]).values_list(
            "pk", flat=True
        )
    )
    habits = _restore_habits(user, export, result)
    pauses = _restore_pauses(user, export, habits)
    _restore_instances(export, habits, pauses, now, progress, result)
    new = [h for h in set(habits.values()) if h.pk not in merged]
    finished = [pk for pk, program in programs_of(new).items() if program.finished]
    # A course that was over when exported is over again, without being told again.
    Habit.objects.filter(pk__in=finished, program_finished_at__isnull=True).update(
        program_finished_at=now
    )
    result.habit_ids = sorted({h.pk for h in habits.values()})
    if result.new_active:
        instances_generate_for(habit_ids=result.new_active, now=now, fresh=True)
    return result
