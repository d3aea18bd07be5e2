from datetime import date, datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

from instances.models import HabitInstance


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

    @staticmethod
    def resolve_action(obj: HabitInstance) -> str:
        return obj.habit.action

    @staticmethod
    def resolve_place(obj: HabitInstance) -> str:
        return obj.habit.place

    @staticmethod
    def resolve_source(obj: HabitInstance) -> str | None:
        return obj.source or None


class StatusCounts(Schema):
    scheduled: int
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
