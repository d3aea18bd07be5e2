"""Habit events and the frames they become, built after the commit from the committed rows.

Services record the event types below through `core.events.record`; config/reactions.py
calls the functions here once the change has committed.
"""

from core.schemas import as_json
from habits.models import Habit
from habits.schemas import HabitOut
from habits.stats_cache import stats_refresh
from realtime import presence
from realtime.broadcast import broadcast, broadcast_batch

# Facts of each: habit_id, user_id.
HABIT_CREATED = "habit.created"
HABIT_UPDATED = "habit.updated"
HABIT_DELETED = "habit.deleted"
STATS_UPDATED = "stats.updated"


def habit_announce(*, type: str, habit_id: int, user_id: int) -> None:
    """Send the owner the committed habit (nothing when it is gone again by now: its own
    `habit.deleted` follows)."""
    if type == HABIT_DELETED:
        broadcast(user_id=user_id, type=type, data={"id": habit_id})
        return
    habit = Habit.objects.filter(pk=habit_id).first()
    if habit is not None:
        broadcast(user_id=user_id, type=type, data=as_json(HabitOut, habit))


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


def stats_forget(habit_ids: list[int]) -> None:
    """A deleted habit's cached stats go (nobody is told: the habit itself is gone)."""
    stats_refresh(invalidate=habit_ids, recompute=[])
