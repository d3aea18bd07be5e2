from datetime import date, datetime

from ninja import Schema

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
