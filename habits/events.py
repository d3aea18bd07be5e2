"""Habit events: built from the committed state, sent to the owner's sockets after commit."""

from django.db import transaction

from config.schemas import as_json
from habits.models import Habit
from habits.schemas import HabitOut
from realtime.broadcast import broadcast

HABIT_CREATED = "habit.created"
HABIT_UPDATED = "habit.updated"
HABIT_DELETED = "habit.deleted"


def _send_on_commit(*, user_id: int, type: str, data: dict) -> None:
    transaction.on_commit(lambda: broadcast(user_id=user_id, type=type, data=data))


def habit_created_on_commit(habit: Habit) -> None:
    payload = as_json(HabitOut, habit)  # serialise now, send later
    _send_on_commit(user_id=habit.user_id, type=HABIT_CREATED, data=payload)


def habit_updated_on_commit(habit: Habit) -> None:
    payload = as_json(HabitOut, habit)
    _send_on_commit(user_id=habit.user_id, type=HABIT_UPDATED, data=payload)


def habit_deleted_on_commit(*, habit_id: int, user_id: int) -> None:
    _send_on_commit(user_id=user_id, type=HABIT_DELETED, data={"id": habit_id})
