import json
from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Schema
from ninja.responses import NinjaJSONEncoder
from pydantic import Field, StringConstraints

from core.schemas import InputSchema
from core.types import MAX_ID
from instances.models import NOTE_MAX_LENGTH, HabitInstance, SkipReason


class InstanceOut(Schema):
    """An instance, in REST and in WebSocket frames alike (needs `habit` loaded)."""

    id: int
    habit_id: int
    action: str
    place: str
    date: date
    scheduled_at: datetime
    grace_deadline: datetime
    fix_deadline: datetime
    status: str
    completed_at: datetime | None
    source: str | None
    skip_reason: str | None
    note: str | None

    @staticmethod
    def resolve_action(obj: HabitInstance) -> str:
        return obj.habit.action

    @staticmethod
    def resolve_place(obj: HabitInstance) -> str:
        return obj.habit.place

    @staticmethod
    def resolve_source(obj: HabitInstance) -> str | None:
        return obj.source or None

    @staticmethod
    def resolve_skip_reason(obj: HabitInstance) -> str | None:
        return obj.skip_reason or None

    @staticmethod
    def resolve_note(obj: HabitInstance) -> str | None:
        return obj.note or None


def instance_json(instance: HabitInstance) -> bytes:
    """The JSON `InstanceOut` renders for `instance` (its habit loaded), byte for byte, built
    without the schema: the answer and the frame of every single change (a completion, a
    skip), where validating the row again cost more than the rest of the answer
    (tests/instances/test_instance_json.py holds the two equal)."""
    habit = instance.habit
    return json.dumps(
        {
            "id": instance.pk,
            "habit_id": instance.habit_id,
            "action": habit.action,
            "place": habit.place,
            "date": instance.date,
            "scheduled_at": instance.scheduled_at,
            "grace_deadline": instance.grace_deadline,
            "fix_deadline": instance.fix_deadline,
            "status": instance.status,
            "completed_at": instance.completed_at,
            "source": instance.source or None,
            "skip_reason": instance.skip_reason or None,
            "note": instance.note or None,
        },
        cls=NinjaJSONEncoder,
    ).encode()


def instance_answer(instance: HabitInstance) -> bytes:
    """The answer of a single change: the bytes its event recorded (`instance_change_record`
    keeps them on the instance, and nothing writes the row after it), else `instance_json`
    (a completion of a done instance records nothing)."""
    recorded: bytes | None = getattr(instance, "recorded_json", None)
    return recorded if recorded is not None else instance_json(instance)


class SkipIn(InputSchema):
    reason: SkipReason = SkipReason.OTHER
    note: Annotated[str, StringConstraints(max_length=NOTE_MAX_LENGTH)] | None = None


class NoteIn(InputSchema):
    """The note, required: a string of up to 1,000 characters, or null (or "") to clear it."""

    note: Annotated[str, StringConstraints(max_length=NOTE_MAX_LENGTH)] | None


class PauseIn(InputSchema):
    start_date: date
    end_date: date
    habit_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    reason: SkipReason = SkipReason.REST


class PauseOut(Schema):
    id: int
    start_date: date
    end_date: date
    habit_id: int | None
    reason: SkipReason


class StatusCounts(Schema):
    scheduled: int
    skipped: int
    pending: int
    completed: int
    completed_late: int
    missed: int
    fix_expired: int


class Streak(Schema):
    current: int
    max: int


class WeekdayStats(Schema):
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    done: int
    failed: int


class StatsOut(Schema):
    """SPEC §6: done = completed + completed_late; failed = missed + fix_expired."""

    habit_id: int
    counts: StatusCounts
    done: int
    failed: int
    success_rate: float | None
    on_time_rate: float | None
    streak: Streak
    weekly: list[WeekdayStats]
    score: float = Field(ge=0, le=1, description="Habit strength, an exponential moving average.")
