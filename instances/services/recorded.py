"""One instance changed by its owner (completed, skipped, back from a skip, a note): the
event says what its reactions would otherwise read back from the database."""

import json

from core.events import record
from instances.models import HabitInstance
from instances.schemas import instance_json


def instance_change_record(
    type: str, instance: HabitInstance, *, settling: bool, refitting: bool = False
) -> None:
    """Record `type` for `instance` (its habit loaded, its row locked and saved by the
    caller's transaction) with, beside `ids` and `user_ids`:

    - `owners`, `{habit_id: user_id}`: whose stats go stale;
    - `data`, `{user_id: [InstanceOut]}`: the frame's data as this change leaves the row.
      Nothing else in the transaction writes a field it shows (the reactions write outbox
      rows and the habit's course mark), so the socket frame and a webhook's body are this,
      not a second read of the row;
    - `settling`: the habits whose course this change may have finished or reopened, locked
      by the caller's locking read (`instance_locked(lock_habit=True)`), or none;
    - `refitting`: the habits whose course this skip (or its undo) may stretch (or shrink)
      across a day already planned (`course_may_stretch`), or none.
    """
    user_id = instance.user_id
    # The view answers with these same bytes (`instance_answer`): the row is rendered once.
    instance.recorded_json = body = instance_json(instance)
    record(
        type,
        ids=[instance.pk],
        user_ids={user_id},
        owners={instance.habit_id: user_id},
        data={user_id: [json.loads(body)]},
        settling=[instance.habit_id] if settling else [],
        refitting=[instance.habit_id] if refitting else [],
    )
