"""Habit events: built from the committed state, sent to the owner's sockets after commit."""

from django.db import transaction

from config.schemas import as_json
from habits.models import Habit
from habits.schemas import HabitOut
from habits.stats_cache import stats_refresh
from instances.today_cache import today_changed
from realtime import presence
from realtime.broadcast import broadcast, broadcast_batch

HABIT_CREATED = "habit.created"
HABIT_UPDATED = "habit.updated"
HABIT_DELETED = "habit.deleted"
STATS_UPDATED = "stats.updated"


def _send_on_commit(*, user_id: int, type: str, data: dict) -> None:
    # A habit's action, place and activity show in its instances' `today` list.
    today_changed([user_id])
    transaction.on_commit(lambda: broadcast(user_id=user_id, type=type, data=data))


def habit_created_on_commit(habit: Habit) -> None:
    payload = as_json(HabitOut, habit)  # serialise now, send later
    _send_on_commit(user_id=habit.user_id, type=HABIT_CREATED, data=payload)


def habit_updated_on_commit(habit: Habit) -> None:
    payload = as_json(HabitOut, habit)
    _send_on_commit(user_id=habit.user_id, type=HABIT_UPDATED, data=payload)


def habit_deleted_on_commit(*, habit_id: int, user_id: int) -> None:
    _send_on_commit(user_id=user_id, type=HABIT_DELETED, data={"id": habit_id})


def stats_changed(owners: dict[int, int]) -> None:
    """Call after commit with `{habit_id: user_id}` of habits whose instances changed.

    Every cached entry goes; owners with a socket open get `stats.updated` with fresh
    numbers, computed for all their habits at once (one frame per habit, one channel-layer
    message per user).
    """
    online = presence.online_among(owners.values())
    live = [habit_id for habit_id, user_id in owners.items() if user_id in online]
    fresh = stats_refresh(invalidate=owners, recompute=live)
    by_user: dict[int, list[dict]] = {}
    for habit_id, stats in fresh.items():
        frame = {"type": STATS_UPDATED, "data": {"habit_id": habit_id, "stats": stats}}
        by_user.setdefault(owners[habit_id], []).append(frame)
    broadcast_batch(by_user)


def stats_changed_on_commit(habit: Habit) -> None:
    owners = {habit.pk: habit.user_id}
    transaction.on_commit(lambda: stats_changed(owners))
