"""Instance events: serialised from committed rows, sent per user after commit."""

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction

from config.schemas import as_json
from habits.events import stats_changed
from instances.models import HabitInstance
from instances.schemas import InstanceOut
from instances.selectors import instances_by_ids
from instances.today_cache import today_changed
from realtime import presence
from realtime.broadcast import broadcast_batch, broadcast_many

INSTANCE_CREATED = "instance.created"
INSTANCE_UPDATED = "instance.updated"


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


def instances_changed_on_commit(*, type: str, ids: Iterable[int], user_ids: Iterable[int]) -> None:
    """After commit, announce the changed instances (read then, so frames show committed state).

    `user_ids`: the owners of every changed instance (the announced `ids` may be fewer), whose
    cached `today` lists go after the commit."""
    today_changed(user_ids)
    ids = list(ids)
    if not ids:
        return
    if len(ids) <= INLINE_ANNOUNCE_MAX:
        transaction.on_commit(lambda: instances_announce(type=type, ids=ids))
        return
    from instances.tasks import announce_instances  # the task module imports the services

    announce_instances.delay_on_commit(type, ids)


def instance_updated_on_commit(instance: HabitInstance) -> None:
    today_changed([instance.user_id])
    payload = as_json(InstanceOut, instance)  # serialise now, send later
    owners = {instance.habit_id: instance.user_id}

    def send() -> None:
        broadcast_many(user_id=instance.user_id, type=INSTANCE_UPDATED, items=[payload])
        stats_changed(owners)

    transaction.on_commit(send)


def instances_deleted_on_commit(owners: dict[int, int]) -> None:
    """Instances of `{habit_id: user_id}` were deleted by hand (the admin): their owners'
    `today` lists and the habits' stats go stale."""
    today_changed(owners.values())
    transaction.on_commit(lambda: stats_changed(owners))
