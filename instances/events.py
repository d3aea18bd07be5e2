"""Instance events and the frames they become, serialised after the commit from the
committed rows and sent per user.

Facts of each: `ids` (the instances to announce; may be fewer than changed, e.g. only those
of users online) and `user_ids` (the owners of every changed instance, whose `today` lists
go stale).
"""

from collections import defaultdict
from collections.abc import Iterable

from core.schemas import as_json
from habits.events import stats_changed
from instances.models import HabitInstance
from instances.schemas import InstanceOut
from instances.selectors import instances_by_ids
from realtime import presence
from realtime.broadcast import broadcast_batch

INSTANCE_CREATED = "instance.created"  # also `under_way`: some are due already
INSTANCE_UPDATED = "instance.updated"
# Done (web, bot or API). Not a frame of its own: the owner sees `instance.updated`.
INSTANCE_COMPLETED = "instance.completed"
# Deleted by hand (the admin). Facts: `owners` {habit_id: user_id}. No frame.
INSTANCE_DELETED = "instance.deleted"


def _frames_by_user(type: str, instances: Iterable[HabitInstance]) -> dict[int, list[dict]]:
    grouped: dict[int, list[dict]] = defaultdict(list)
    for instance in instances:
        grouped[instance.user_id].append({"type": type, "data": as_json(InstanceOut, instance)})
    return grouped


# Up to this many changed rows are announced right after the commit by the process that made
# them; more (a big sweep or generation) go to a task, so the sweep's own cost stays with the
# database and the fan-out runs beside it on another worker process.
INLINE_ANNOUNCE_MAX = 100


def instances_announce(*, type: str, ids: list[int]) -> None:
    """Tell the owners of these committed instances: one frame per instance, one channel-layer
    message per user, and only for users with a socket open (two queries whatever the count).
    The cached stats of every touched habit go stale and are dropped."""
    owners = list(HabitInstance.objects.filter(pk__in=ids).values_list("id", "habit_id", "user_id"))
    online = presence.online_among(user_id for _, _, user_id in owners)
    live_ids = [pk for pk, _, user_id in owners if user_id in online]
    broadcast_batch(_frames_by_user(type, instances_by_ids(live_ids)) if live_ids else {})
    stats_changed({habit_id: user_id for _, habit_id, user_id in owners})
