"""The frames a committed change becomes, built after the commit from the committed rows and
sent per user. config/reactions.py calls these (and realtime/tasks.py, for big batches and
the stats); the event types are the apps' own (habits/events.py, instances/events.py).
"""

from collections import defaultdict
from collections.abc import Callable, Iterable

from ninja import Schema

from accounts.models import User
from core.presence import online_among
from core.schemas import as_json
from habits.events import HABIT_DELETED
from habits.models import Habit
from habits.programs import with_programs
from habits.schemas import HabitOut
from instances.events import PAUSE_DELETED
from instances.models import HabitInstance, Pause
from instances.schemas import InstanceOut, PauseOut
from instances.selectors import instance_list_today, instances_by_ids
from instances.stats_cache import stats_recompute
from realtime.broadcast import broadcast, broadcast_batch

STATS_UPDATED = "stats.updated"
TODAY_SNAPSHOT = "today.snapshot"


def today_snapshot_data(user_id: int) -> list[dict]:
    """The user's instances of their local today, as a socket's `today.snapshot` carries."""
    user = User.objects.only("timezone").get(pk=user_id)
    return [as_json(InstanceOut, i) for i in instance_list_today(user=user)]


def today_announce(*, user_id: int) -> None:
    """A fresh `today.snapshot` to every socket of the user: their local date itself moved
    (a timezone change), which no single instance's frame says."""
    broadcast(user_id=user_id, type=TODAY_SNAPSHOT, data=today_snapshot_data(user_id))


def _announce_row(
    *, type: str, gone: str, user_id: int, pk: int, load: Callable[[int], object | None],
    schema: type[Schema],
) -> None:  # fmt: skip
    """Send the owner the committed row as `schema`, or `{"id": pk}` for its `gone` event
    (nothing when the row is gone again by now: its own `gone` event follows)."""
    if type == gone:
        broadcast(user_id=user_id, type=type, data={"id": pk})
    elif (row := load(pk)) is not None:
        broadcast(user_id=user_id, type=type, data=as_json(schema, row))


def row_data(*, type: str, gone: str, pk: int, load: Callable[[int], object | None],
             schema: type[Schema]) -> dict | None:  # fmt: skip
    """A row frame's `data` as the socket would carry it (None: the row is gone)."""
    if type == gone:
        return {"id": pk}
    row = load(pk)
    return None if row is None else as_json(schema, row)


def _habit_with_program(pk: int) -> Habit | None:
    habit = Habit.objects.filter(pk=pk).first()
    return with_programs([habit])[0] if habit else None  # its program as committed now


def habit_announce(*, type: str, habit_id: int, user_id: int) -> None:
    _announce_row(type=type, gone=HABIT_DELETED, user_id=user_id, pk=habit_id,
                  load=_habit_with_program, schema=HabitOut)  # fmt: skip


def habit_data(*, type: str, habit_id: int) -> dict | None:
    return row_data(type=type, gone=HABIT_DELETED, pk=habit_id, load=_habit_with_program,
                    schema=HabitOut)  # fmt: skip


def pause_data(*, type: str, pause_id: int) -> dict | None:
    return row_data(type=type, gone=PAUSE_DELETED, pk=pause_id, load=_pause, schema=PauseOut)


def _pause(pk: int) -> Pause | None:
    return Pause.objects.filter(pk=pk).first()


def pause_announce(*, type: str, pause_id: int, user_id: int) -> None:
    _announce_row(type=type, gone=PAUSE_DELETED, user_id=user_id, pk=pause_id,
                  load=lambda pk: Pause.objects.filter(pk=pk).first(), schema=PauseOut)  # fmt: skip


def _frames_by_user(type: str, instances: Iterable[HabitInstance]) -> dict[int, list[dict]]:
    grouped: dict[int, list[dict]] = defaultdict(list)
    for instance in instances:
        grouped[instance.user_id].append({"type": type, "data": as_json(InstanceOut, instance)})
    return grouped


def instances_data(*, ids: list[int], user_ids: Iterable[int]) -> dict[int, list[dict]]:
    """The `data` of the instance frames of these users' instances among `ids`, per user (as
    the rows read now: in a transaction, as it has them)."""
    grouped: dict[int, list[dict]] = defaultdict(list)
    for instance in instances_by_ids(ids).filter(user_id__in=list(user_ids)):
        grouped[instance.user_id].append(as_json(InstanceOut, instance))
    return grouped


# Up to this many changed rows are announced right after the commit by the process that made
# them; more (a big sweep or generation) go to a task, so the sweep's own cost stays with the
# database and the fan-out runs beside it on another worker process.
INLINE_ANNOUNCE_MAX = 100


def instances_announce(*, type: str, ids: list[int]) -> None:
    """Tell the owners of these committed instances: one frame per instance, one channel-layer
    message per user, and only for users with a socket open (two queries whatever the count)."""
    owners = HabitInstance.objects.filter(pk__in=ids).values_list("id", "user_id")
    online = online_among(user_id for _, user_id in owners)
    live_ids = [pk for pk, user_id in owners if user_id in online]
    broadcast_batch(_frames_by_user(type, instances_by_ids(live_ids)) if live_ids else {})


def instances_data_announce(
    *, type: str, data_by_user: dict[int, list[dict]], online: set[int]
) -> None:
    """Frames of instance data a change gave with its event (`{user_id: [data]}`), to the
    users with a socket open (`online`, as `online_among` says): no read of the rows."""
    broadcast_batch(
        {
            user_id: [{"type": type, "data": data} for data in rows]
            for user_id, rows in data_by_user.items()
            if user_id in online
        }
    )


def stats_announce(owners: dict[int, int], versions: dict[int, int]) -> None:
    """`stats.updated` with fresh numbers for these habits (`{habit_id: user_id}`, owners with
    a socket open), computed for all at once and cached under `versions` (those the forget
    after the commit gave), one channel-layer message per user."""
    fresh = stats_recompute(owners, versions)
    by_user: dict[int, list[dict]] = {}
    for habit_id, stats in fresh.items():
        frame = {"type": STATS_UPDATED, "data": {"habit_id": habit_id, "stats": stats}}
        by_user.setdefault(owners[habit_id], []).append(frame)
    broadcast_batch(by_user)
