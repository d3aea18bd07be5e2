"""The deadline sweep: due instances move to the status the clock gives them."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from instances.clock import status_by_clock_expression
from instances.events import INSTANCE_UPDATED
from instances.models import OPEN_STATUSES, HabitInstance, Status
from instances.services.generate import _record_instances

SWEEP_BATCH = 5_000


# Each arm reads its own partial index in deadline order and stops after the batch, so the
# cost follows the due rows, not the table (a planner estimate cannot turn it into a scan).
SWEEP_ARMS = (
    (Status.SCHEDULED, "scheduled_at", "lte"),
    (Status.PENDING, "grace_deadline", "lt"),
    (Status.MISSED, "fix_deadline", "lt"),
)


def _due(now: datetime) -> list[tuple[int, int, datetime]]:
    """(instance id, user id, fix deadline) of the due instances, at most SWEEP_BATCH."""
    due_rows: list[tuple[int, int, datetime]] = []
    for status, deadline, lookup in SWEEP_ARMS:
        # SKIP LOCKED: rows another sweep or a completion holds are theirs to change; a
        # second sweep running at once takes disjoint rows, so each instance changes once.
        due = (
            HabitInstance.objects.filter(status=status, **{f"{deadline}__{lookup}": now})
            .order_by(deadline)
            .select_for_update(skip_locked=True)
        )
        due_rows += due.values_list("id", "user_id", "fix_deadline")[: SWEEP_BATCH - len(due_rows)]
    return due_rows


@transaction.atomic
def _sweep_batch(now: datetime) -> list[int]:
    due = _due(now)
    ids = [pk for pk, _, _ in due]
    if ids:
        HabitInstance.objects.filter(pk__in=ids, status__in=OPEN_STATUSES).update(
            status=status_by_clock_expression(now), updated_at=now
        )
        _record_instances(
            INSTANCE_UPDATED,
            ids=ids,
            user_ids={user_id for _, user_id, _ in due},
            swept=True,
            # Those the clock made final (fix_expired): only they can finish a course, so the
            # program check reads these alone (a tick of moves to pending reads nothing).
            expired=[pk for pk, _, fix in due if fix < now],
        )
    return ids


def instances_sweep(*, now: datetime | None = None) -> int:
    """Move every due instance to the status the clock gives it; returns how many moved."""
    now = now or timezone.now()
    moved = 0
    while True:
        ids = _sweep_batch(now)
        moved += len(ids)
        if len(ids) < SWEEP_BATCH:
            return moved
