"""Instance events: serialised from committed rows, sent per user after commit."""

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction

from config.schemas import as_json
from habits.events import stats_changed
from instances.models import HabitInstance
from instances.schemas import InstanceOut
from instances.selectors import instances_by_ids
from realtime.broadcast import broadcast_many

INSTANCE_CREATED = "instance.created"
INSTANCE_UPDATED = "instance.updated"


def _payloads_by_user(instances: Iterable[HabitInstance]) -> dict[int, list[dict]]:
    grouped: dict[int, list[dict]] = defaultdict(list)
    for instance in instances:
        grouped[instance.user_id].append(as_json(InstanceOut, instance))
    return grouped


def instances_changed_on_commit(*, type: str, ids: Iterable[int]) -> None:
    """After commit, one frame per instance, one channel-layer message per user.

    The rows are read after the commit, in one query, so the frames show committed state.
    """
    ids = list(ids)
    if not ids:
        return

    def send() -> None:
        instances = list(instances_by_ids(ids))
        for user_id, payloads in _payloads_by_user(instances).items():
            broadcast_many(user_id=user_id, type=type, items=payloads)
        stats_changed({i.habit_id: i.user_id for i in instances})

    transaction.on_commit(send)


def instance_updated_on_commit(instance: HabitInstance) -> None:
    payload = as_json(InstanceOut, instance)  # serialise now, send later
    owners = {instance.habit_id: instance.user_id}

    def send() -> None:
        broadcast_many(user_id=instance.user_id, type=INSTANCE_UPDATED, items=[payload])
        stats_changed(owners)

    transaction.on_commit(send)
