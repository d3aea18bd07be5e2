"""Instance events: serialised from committed rows, sent per user after commit."""

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction

from config.schemas import as_json
from habits.events import stats_changed
from instances.models import HabitInstance
from instances.schemas import InstanceOut
from instances.selectors import instances_by_ids
from realtime import presence
from realtime.broadcast import broadcast_batch, broadcast_many

INSTANCE_CREATED = "instance.created"
INSTANCE_UPDATED = "instance.updated"


def _frames_by_user(type: str, instances: Iterable[HabitInstance]) -> dict[int, list[dict]]:
    grouped: dict[int, list[dict]] = defaultdict(list)
    for instance in instances:
        grouped[instance.user_id].append({"type": type, "data": as_json(InstanceOut, instance)})
    return grouped


def instances_changed_on_commit(*, type: str, ids: Iterable[int]) -> None:
    """After commit, one frame per instance, one channel-layer message per user.

    Many rows (a sweep) cost two queries: who owns them, then the committed rows of the
    owners with a socket open; nobody else has anyone to tell. The cached stats of every
    touched habit go stale and are dropped.
    """
    ids = list(ids)
    if not ids:
        return

    def send() -> None:
        owners = list(
            HabitInstance.objects.filter(pk__in=ids).values_list("id", "habit_id", "user_id")
        )
        online = presence.online_among(user_id for _, _, user_id in owners)
        live_ids = [pk for pk, _, user_id in owners if user_id in online]
        broadcast_batch(_frames_by_user(type, instances_by_ids(live_ids)) if live_ids else {})
        stats_changed({habit_id: user_id for _, habit_id, user_id in owners})

    transaction.on_commit(send)


def instance_updated_on_commit(instance: HabitInstance) -> None:
    payload = as_json(InstanceOut, instance)  # serialise now, send later
    owners = {instance.habit_id: instance.user_id}

    def send() -> None:
        broadcast_many(user_id=instance.user_id, type=INSTANCE_UPDATED, items=[payload])
        stats_changed(owners)

    transaction.on_commit(send)
